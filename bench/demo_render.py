"""Benchmark: the demo render, timed by stage, and its real-time factor (wall time / song length).

    .venv/bin/python bench/demo_render.py [--storyboard examples/hardest-part/storyboard.yaml] [--out out/bench-demo.mp4]

Uses a fresh take cache (so generation is really timed) unless --cache is given.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import torch

from storyreel.pipeline import RenderOptions, render


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--storyboard", default="examples/hardest-part/storyboard.yaml")
    ap.add_argument("--out", default="out/bench-demo.mp4")
    ap.add_argument("--cache", default=None, help="take cache to use (default: a fresh temporary one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CACHE_HOME"] = tmp  # a fresh song-analysis cache too, so analysis is really timed
        rep = render(Path(args.storyboard), Path(args.out), RenderOptions(cache_dir=Path(args.cache or tmp) / "takes"))
    total = sum(rep.stages.values())
    print(f"demo render on {torch.get_num_threads()} threads: {rep.shots} shots, {rep.duration:.1f} s of video")
    print(f"{'stage':<12} {'seconds':>8} {'share':>6}")
    for stage, sec in rep.stages.items():
        print(f"{stage:<12} {sec:8.1f} {100 * sec / total:5.1f}%")
    print(f"{'total':<12} {total:8.1f}")
    for part, sec in rep.overlapped.items():
        print(f"  {part:<16} {sec:8.1f}  (in threads beside the encoder; not added to the total)")
    print(f"takes generated {rep.generated}, from cache {rep.cached}")
    print(f"real-time factor (wall / song) {rep.realtime_factor:.2f}")


if __name__ == "__main__":
    main()
