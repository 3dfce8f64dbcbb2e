"""Benchmark: the new diffusers families on tiny random pipelines, through storyreel and straight into diffusers.

For each family (Wan VACE, SkyReels-V2 DF, LTX-2, HunyuanVideo 1.5) a tiny
pipeline is built from tests/tiny_pipelines.py, saved, and opened through
storyreel's adapter. One warm-up generation, then `--repeats` timed ones
through `model.generate` (validation, the pipeline call, the output check,
Clip.info) and the same pipeline call with the same arguments made directly;
the best of each counts. Printed: seconds per generation both ways and
storyreel's overhead (storyreel / direct - 1). Tiny models make the fixed costs
loom large: this is an upper bound of the overhead a real model would see, on
this machine's CPU, with one torch thread.

    .venv/bin/python bench/tiny_backends.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

FAMILIES = {  # name -> (tiny builder name, native size (h, w), frames, extra options)
    "wan-vace": ("wan-vace", (32, 48), 9, {}),
    "skyreels-df": ("skyreels-df", (32, 48), 9, {}),
    "ltx2": ("ltx2", (32, 64), 9, {}),
    "hunyuan15": ("hunyuan15-t2v", (12, 20), 9, {}),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    import torch
    from diffusers.utils import logging as diffusers_logging

    import tiny_pipelines
    from storyreel.models.base import GenerationRequest
    from storyreel.models.diffusers import DiffusersOptions, open_model

    torch.set_num_threads(1)
    diffusers_logging.set_verbosity_error()
    print(f"{'family':<12} {'storyreel s':>12} {'direct s':>10} {'overhead':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for family, (builder, (h, w), frames, extra) in FAMILIES.items():
            torch.manual_seed(0)
            path = Path(tmp) / builder
            pipe = {"wan-vace": tiny_pipelines.wan_vace, "skyreels-df": tiny_pipelines.skyreels_df,
                    "ltx2": tiny_pipelines.ltx2, "hunyuan15-t2v": tiny_pipelines.hunyuan15}[builder]()
            pipe.save_pretrained(path, safe_serialization=True)
            model = open_model(str(path), DiffusersOptions(size=(h, w), frames=frames, steps=2, **extra))
            req = GenerationRequest("a star over the sea", seed=1, height=h, width=w, frames=frames, steps=2)
            model.generate(req)  # warm-up: loading, first-call allocations
            ours = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                model.generate(req)
                ours.append(time.perf_counter() - t)
            loaded, kwargs, _, _ = model.pipeline_call(req)
            direct = []
            for _ in range(args.repeats):
                kw = {**kwargs, "generator": torch.Generator("cpu").manual_seed(1)}
                t = time.perf_counter()
                with torch.inference_mode():
                    model.run_pipeline(loaded, kw, req)
                direct.append(time.perf_counter() - t)
            a, b = min(ours), min(direct)
            print(f"{family:<12} {a:12.3f} {b:10.3f} {a / b - 1:+9.1%}")


if __name__ == "__main__":
    main()
