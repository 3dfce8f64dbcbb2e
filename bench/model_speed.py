"""Benchmark: the built-in model's speed on this machine, base model and super-resolution stage together.

Prints the time for one native clip (16 frames at 8 fps), the time of its 4x
super-resolution stage, the video seconds produced per wall second for both
together (target >= 1.0), and model FLOP utilisation (MFU) against this
machine's matmul peak measured in the same process, thread count and dtype.
FLOPs are counted by torch's FlopCounterMode over one real generation and one
real upsampling (text encoder, denoiser with guidance, decoder; the SR net).

    .venv/bin/python bench/model_speed.py [--steps N] [--repeats 5] [--weights src/storyreel/models/builtin/weights-v2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

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


def _flops(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--weights", type=Path, default=None, help="weights folder (default: the default model's)")
    args = ap.parse_args()
    model = BuiltinModel(args.weights) if args.weights else BuiltinModel()
    steps = args.steps or model.default_steps
    prompt = "a red star moves right across a night sky"
    clip = model.generate(GenerationRequest(prompt=prompt, seed=0, steps=steps))  # load weights, warm up
    model.upsample(clip.frames)
    base_t, sr_t = [], []
    for i in range(args.repeats):
        t = time.perf_counter()
        clip = model.generate(GenerationRequest(prompt=prompt, seed=i, steps=steps))
        t1 = time.perf_counter()
        big = model.upsample(clip.frames)
        base_t.append(t1 - t)
        sr_t.append(time.perf_counter() - t1)
    base, sr = statistics.median(base_t), statistics.median(sr_t)
    clip_seconds = model.native.frames / model.native.fps
    base_flops = _flops(lambda: model.generate(GenerationRequest(prompt=prompt, seed=0, steps=steps)))
    sr_flops = _flops(lambda: model.upsample(clip.frames))
    peak = matmul_peak()
    h, w = clip.frames.shape[1:3]
    print(f"threads                      {torch.get_num_threads()}")
    print(f"denoiser                     {type(model._components[1]).__name__}, {steps} sampler steps (x2 for guidance)")
    print(f"one native clip              {base:.3f} s  ({model.native.frames} frames, {w}x{h}, {clip_seconds:.1f} s of video)")
    print(f"super-resolution stage       {sr:.3f} s  (to {big.shape[2]}x{big.shape[1]}; identity if the weights have none)")
    print(f"video seconds / wall second  {clip_seconds / base:.2f} base only, {clip_seconds / (base + sr):.2f} base + SR")
    print(f"GFLOP per clip               {base_flops / 1e9:.2f} base, {sr_flops / 1e9:.2f} SR")
    print(f"matmul peak (fp32, measured) {peak / 1e9:.1f} GFLOP/s")
    print(f"MFU                          {100 * base_flops / base / peak:.1f} % base, {100 * sr_flops / max(sr, 1e-9) / peak:.1f} % SR, "
          f"{100 * (base_flops + sr_flops) / (base + sr) / peak:.1f} % together")


if __name__ == "__main__":
    main()
