"""Benchmark: the built-in model's generation speed on this machine, and its FLOP utilisation.

Prints the time for one native clip (16 frames at 8 fps, 48x80), the video
seconds produced per wall second (target >= 1.0, aim 4), and model FLOP
utilisation (MFU) against this machine's measured matmul peak, measured in the
same process with the same thread count and dtype.

    .venv/bin/python bench/model_speed.py [--steps 12] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from storyreel.models.base import GenerationRequest
from storyreel.models.builtin.model import BuiltinModel


def matmul_peak(n: int = 1024, repeats: int = 20) -> float:
    """Measured fp32 matmul FLOP/s: the ceiling for MFU on this machine."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    t = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    model = BuiltinModel()
    steps = args.steps or model.default_steps
    req = GenerationRequest(prompt="a red star moves right across a night sky", seed=0, steps=steps)
    model.generate(req)  # load weights, warm up
    times = []
    for i in range(args.repeats):
        t = time.perf_counter()
        model.generate(GenerationRequest(prompt=req.prompt, seed=i, steps=steps))
        times.append(time.perf_counter() - t)
    sec = statistics.median(times)
    clip_seconds = model.native.frames / model.native.fps
    _, dit = model._components
    tokens = (model.native.frames // dit.cfg.patch[0]) * (12 // dit.cfg.patch[1]) * (20 // dit.cfg.patch[2])
    flops = 2 * steps * dit.flops_per_forward(tokens)  # guidance doubles the batch
    peak = matmul_peak()
    print(f"threads                      {torch.get_num_threads()}")
    print(f"sampler steps                {steps} (x2 for guidance)")
    print(f"one native clip              {sec:.3f} s  ({model.native.frames} frames, {req.width}x{req.height}, {clip_seconds:.1f} s of video)")
    print(f"video seconds / wall second  {clip_seconds / sec:.2f}")
    print(f"transformer GFLOP per clip   {flops / 1e9:.2f}")
    print(f"matmul peak (fp32, measured) {peak / 1e9:.1f} GFLOP/s")
    print(f"MFU (transformer only)       {100 * flops / sec / peak:.1f} %")


if __name__ == "__main__":
    main()
