"""Writes docs/builtin-samples.png: a contact sheet of built-in model clips, 4 frames each, captioned.

Frames are shown at the super-resolution stage's size (192x320 for 16:9), pixel for pixel; with --no-sr at
the native 48x80, magnified --scale times.

    .venv/bin/python bench/sample_sheet.py [--out docs/builtin-samples.png] [--steps N] [--no-sr] [--weights DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from storyreel.models.base import GenerationRequest
from storyreel.models.builtin.model import BuiltinModel

PROMPTS = [
    "a red star moves right across a night sky",
    "a yellow circle moves up over a meadow",
    "a pink heart grows at sunset",
    "a blue square moves left in a day sky",
    "a red heart and a yellow circle drift toward each other at sunset",
    "a white star shrinks in the night sky",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="docs/builtin-samples.png")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--scale", type=int, default=None, help="nearest-neighbour magnification (default 1 with SR, 3 without)")
    ap.add_argument("--no-sr", action="store_true", help="native frames, without the super-resolution stage")
    ap.add_argument("--weights", type=Path, default=None)
    args = ap.parse_args()
    model = BuiltinModel(args.weights) if args.weights else BuiltinModel()
    scale = args.scale or (3 if args.no_sr else 1)
    font = ImageFont.load_default()
    rows = []
    for i, prompt in enumerate(PROMPTS):
        clip = model.generate(GenerationRequest(prompt=prompt, seed=i, steps=args.steps))
        frames = clip.frames if args.no_sr else model.upsample(clip.frames)
        strip = np.concatenate([frames[k] for k in (0, 5, 10, 15)], 1)  # (H, 4W, 3)
        img = Image.fromarray(strip).resize((strip.shape[1] * scale, strip.shape[0] * scale), Image.NEAREST)
        row = Image.new("RGB", (img.width, img.height + 18), "white")
        row.paste(img, (0, 18))
        size = f"{frames.shape[2]}x{frames.shape[1]}"
        ImageDraw.Draw(row).text((4, 3), f'"{prompt}"  (frames 0, 5, 10, 15 at {size}; seed {i})', fill="black", font=font)
        rows.append(row)
    sheet = Image.new("RGB", (rows[0].width, sum(r.height for r in rows)), "white")
    y = 0
    for r in rows:
        sheet.paste(r, (0, y))
        y += r.height
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    sheet.quantize(colors=192, method=Image.Quantize.MEDIANCUT).save(args.out, optimize=True)  # small enough for git
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
