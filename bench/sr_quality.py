"""Benchmark: what the 4x super-resolution stage adds over a bicubic upscale, and whether it shimmers.

Scenes of the world drawn from another random stream than the trainer's (--seed) are rendered at the
native 48x80, then made into what the base model would hand the SR stage in two ways (--input): put through
the frame autoencoder (what the base model's decoder draws), and redrawn by the base model itself (the U-Net
restyling the small render at strength 0.35 from the scene's caption, so it stays in the render's place).
Each is upscaled to 192x320 by bicubic and by the SR stage and compared with the same scene rendered at
192x320 directly:

- PSNR against the large render (higher is closer);
- edge PSNR: the same, only on the pixels at the large render's edges (where a blurry upscale loses most);
- temporal stability: warping error and flicker (eval.temporal) of each upscale beside the large render's.

    .venv/bin/python bench/sr_quality.py [--scenes 12] [--seed 99] [--weights DIR] [--input autoencoder|model|both]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from storyreel import world
from storyreel.eval.temporal import flicker, warp_error
from storyreel.models.builtin.model import BuiltinModel
from storyreel.models.builtin.train_sr import model_output
from storyreel.models.builtin.upsampler import upsample
from storyreel.models.builtin.weights import WEIGHTS_V2_DIR, load_autoencoder, load_upsampler


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return 10 * np.log10(255.0**2 / max(mse, 1e-9))


def edges(video: np.ndarray) -> np.ndarray:
    """(T, H, W) bool: pixels within a pixel of a strong edge of the video (Sobel magnitude over 40)."""
    out = []
    for f in video:
        g = cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32)
        mag = np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))
        out.append(cv2.dilate((mag > 40).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    return np.stack(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenes", type=int, default=12)
    ap.add_argument("--seed", type=int, default=99)
    ap.add_argument("--weights", type=Path, default=WEIGHTS_V2_DIR)
    ap.add_argument("--input", choices=("autoencoder", "model", "both"), default="both")
    args = ap.parse_args()
    net, ae = load_upsampler(args.weights), load_autoencoder(args.weights)
    if net is None:
        raise SystemExit(f"no super-resolution stage in {args.weights}")
    for kind in ("autoencoder", "model") if args.input == "both" else (args.input,):
        table(kind, net, ae, args)


def table(kind: str, net, ae, args) -> None:
    """Print the comparison for one kind of small input."""
    base = BuiltinModel(args.weights) if kind == "model" else None
    rng = np.random.default_rng(args.seed)
    rows: dict[str, list[list[float]]] = {"bicubic": [], "sr": [], "large render": []}
    for _ in range(args.scenes):
        scene = world.random_scene(rng, style=world.BOLD)
        placed = world.random_layout(scene, rng, 80 / 48, world.BOLD)
        large = world.render(scene, placed, 192, 320, 16)
        small = world.render(scene, placed, 48, 80, 16)
        if base is not None:
            small = model_output(base, scene, small, 0.35, int(rng.integers(1 << 31)))
        else:
            with torch.no_grad():
                small = ae.decode_video(ae.encode_video(torch.from_numpy(small)[None]))[0].numpy()
        bic = np.stack([cv2.resize(f, (320, 192), interpolation=cv2.INTER_CUBIC) for f in small])
        sr = upsample(net, small)
        edge = edges(large)
        for name, video in (("bicubic", bic), ("sr", sr), ("large render", large)):
            rows[name].append([psnr(video, large), psnr(video[edge], large[edge]), warp_error(video), flicker(video)])
    what = "autoencoder round trip" if kind == "autoencoder" else "redrawn by the base model (restyle 0.35)"
    print(f"{args.scenes} scenes, 16 frames each, {what} at 48x80, upscaled to 192x320")
    print(f"{'':<14}{'PSNR dB':>9}{'edge PSNR':>11}{'warp error':>12}{'flicker':>9}")
    for name, vals in rows.items():
        p, s, w, f = np.mean(vals, axis=0)
        print(f"{name:<14}{min(p, 99):>9.2f}{min(s, 99):>11.2f}{w:>12.2f}{f:>9.3f}")


if __name__ == "__main__":
    main()
