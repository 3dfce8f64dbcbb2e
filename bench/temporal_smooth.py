"""The built-in model's post passes, measured: flicker and warping error with and without each, and what the
pixel probe reads, on the eval's held-out captions (the same set and seeds as `storyreel eval builtin`).

    python bench/temporal_smooth.py [--one 48] [--two 24] [--words new]

Prints one row per variant (no pass, deflicker only, 1-3 passes of flow-guided smoothing then deflicker),
beside the renderer drawing the same scenes in the bold world the model draws and in the classic one.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from storyreel import world
from storyreel.eval import evaluate as ev
from storyreel.eval import probe as probe_mod
from storyreel.eval.temporal import flicker, warp_error
from storyreel.models.base import GenerationRequest
from storyreel.models.builtin.deflicker import deflicker
from storyreel.models.builtin.model import BuiltinModel
from storyreel.models.builtin.temporal_smooth import PASSES, temporal_smooth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--one", type=int, default=48, help="one-object captions")
    ap.add_argument("--two", type=int, default=24, help="two-object captions")
    ap.add_argument("--words", default="new", choices=("new", "training"))
    args = ap.parse_args()

    model = BuiltinModel(post=False)
    items = ev.heldout_set(args.one, args.two, words=args.words)
    scenes = [s for s, _ in items]
    h, w, frames = model.native.height, model.native.width, model.native.frames
    raw = [model.generate(GenerationRequest(prompt=text, seed=i, height=h, width=w, frames=frames)).frames
           for i, (_, text) in enumerate(items)]
    pr = probe_mod.load_probe()

    def row(name: str, clips: list[np.ndarray], seconds: float | None = None) -> None:
        one, two = ev._score([ev.read(pr, c, len(s.things)) for c, s in zip(clips, scenes)], scenes)
        ms = "" if seconds is None else f"{1000 * seconds / len(clips):7.1f}"
        print(f"{name:<34} {np.mean([flicker(c) for c in clips]):7.3f} {np.mean([warp_error(c) for c in clips]):7.2f} "
              f"{one['colour']:6.3f} {one['shape']:6.3f} {one['motion']:6.3f} {one['setting']:6.3f} "
              f"{two['binding']:6.3f} {ms:>8}", flush=True)

    print(f"{len(items)} held-out clips ({args.words} words), {w}x{h}x{frames}")
    print(f"{'variant':<34} {'flicker':>7} {'warp':>7} {'colour':>6} {'shape':>6} {'motion':>6} {'setng':>6} "
          f"{'bind':>6} {'ms/clip':>8}")
    for style_name, style in (("bold", world.BOLD), ("classic", world.CLASSIC)):
        refs = [world.render(s, world.random_layout(s, np.random.default_rng(10_000 + i), w / h, style), h, w, frames)
                for i, s in enumerate(scenes)]
        row(f"renderer, {style_name} world", refs)
    row("model, no pass", raw)
    t0 = time.perf_counter()
    row("deflicker only", [deflicker(c) for c in raw], time.perf_counter() - t0)
    for passes in (1, 2, 3):
        t0 = time.perf_counter()
        clips = [deflicker(temporal_smooth(c, passes=passes)) for c in raw]
        row(f"smooth x{passes} + deflicker" + (" (shipped)" if passes == PASSES else ""), clips, time.perf_counter() - t0)


if __name__ == "__main__":
    main()
