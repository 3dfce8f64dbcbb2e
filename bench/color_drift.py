"""Benchmark: colour drift over five extensions, with and without the grade's colour anchor (edit.anchor).

A shot six generations long (one window and five extensions, each
conditioned on the last 4 frames of the one before, as models.chain makes
long shots) is generated on the built-in model and on a tiny random LTX-Video
pipeline (tests/tiny_pipelines.py: real diffusers code, random weights).
Printed per window: the colour-histogram distance from the first window
(edit.colour.histogram_distance of pooled frames, 0 = same colours, 1 =
disjoint) and the shift of the mean RGB colour in levels, raw and anchored.

    .venv/bin/python bench/color_drift.py [--prompt "..."] [--seeds 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from storyreel.edit.anchor import anchor_windows, drift
from storyreel.models import chain
from storyreel.models.base import GenerationRequest

EXTENSIONS = 5
OVERLAP = 4


def mean_shift(frames: np.ndarray, windows) -> list[float]:
    """|mean RGB of window k - mean RGB of window 0|, averaged over channels, in levels (0-255)."""
    ref = frames[windows[0][0]:windows[0][1]].reshape(-1, 3).mean(0)
    return [float(np.abs(frames[a:b].reshape(-1, 3).mean(0) - ref).mean()) for a, b in windows]


def measure(model, prompt: str, seed: int, size: tuple[int, int], steps: int | None) -> dict:
    native = model.native.frames
    n = native + EXTENSIONS * (native - OVERLAP)
    req = GenerationRequest(prompt, seed=seed, height=size[0], width=size[1], frames=native, steps=steps)
    clip = chain.generate_long(model, req, n, overlap=OVERLAP)
    windows = clip.info["windows"]
    fixed = anchor_windows(clip.frames, windows)
    return {"raw": drift(clip.frames, windows), "anchored": drift(fixed, windows),
            "raw_shift": mean_shift(clip.frames, windows), "anchored_shift": mean_shift(fixed, windows)}


def tiny_ltx(folder: Path):
    """A tiny random LTX-Video pipeline, saved and opened through storyreel's diffusers adapter."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    import torch
    from diffusers.utils import logging as diffusers_logging
    from tiny_pipelines import ltx

    diffusers_logging.set_verbosity_error()  # the tiny pipeline's scheduler notes are not this bench's business

    from storyreel.models.diffusers import DiffusersOptions, open_model

    torch.manual_seed(0)
    ltx().save_pretrained(folder / "ltx", safe_serialization=True)
    return open_model(str(folder / "ltx"), DiffusersOptions(size=(32, 64), frames=17, steps=2))


def report(name: str, rows: list[dict]) -> None:
    print(f"\n{name}: drift from the first window over {EXTENSIONS} extensions (mean of {len(rows)} seeds)")
    print("window        " + "  ".join(f"{k:>6}" for k in range(EXTENSIONS + 1)))
    for key, label in (("raw", "hist raw"), ("anchored", "hist anchor"), ("raw_shift", "RGB raw"),
                       ("anchored_shift", "RGB anchor")):
        vals = np.mean([r[key] for r in rows], axis=0)
        print(f"{label:<13} " + "  ".join(f"{v:6.3f}" if "hist" in label else f"{v:6.2f}" for v in vals))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompt", default="a yellow star drifts over a green meadow under a blue sky")
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    import tempfile

    import torch

    torch.set_num_threads(1)
    from storyreel.models.builtin.model import BuiltinModel

    builtin = BuiltinModel()
    report("built-in model (48x80, 16 frames per generation)",
           [measure(builtin, args.prompt, s, (builtin.native.height, builtin.native.width), None)
            for s in range(args.seeds)])
    with tempfile.TemporaryDirectory() as tmp:
        tiny = tiny_ltx(Path(tmp))
        report("tiny random LTX-Video pipeline (32x64, 17 frames per generation, 2 steps)",
               [measure(tiny, args.prompt, s, (32, 64), 2) for s in range(args.seeds)])


if __name__ == "__main__":
    main()
