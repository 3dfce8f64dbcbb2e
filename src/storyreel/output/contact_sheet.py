"""The contact sheet: one still per shot in a grid, numbered and labelled, with the title on top (a PNG)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..fsio import atomic_write
from ..plan import ShotPlan
from .text import font, timecode


def contact_sheet(
    thumbs: list[np.ndarray], plan: ShotPlan, out_png: str | os.PathLike, cols: int = 8, thumb_width: int = 240
) -> Path:
    """A PNG grid of one thumbnail (H, W, 3) uint8 per shot, numbered and labelled with start time; title on top."""
    if len(thumbs) != len(plan.shots):
        raise ValueError(f"{len(thumbs)} thumbnails for {len(plan.shots)} shots")
    tw = thumb_width
    th = max(1, round(tw * plan.height / plan.width))
    pad, label_h, title_h = 8, 22, 44
    cols = max(1, min(cols, len(thumbs)))
    rows = -(-len(thumbs) // cols)
    sheet = Image.new("RGB", (pad + cols * (tw + pad), title_h + rows * (th + label_h + pad) + pad), (18, 18, 20))
    draw = ImageDraw.Draw(sheet)
    title = f"{plan.title}  ·  {len(plan.shots)} shots  ·  {timecode(plan.duration)}  ·  {plan.model}"
    draw.text((pad, 12), title, fill=(240, 240, 240), font=font(20))
    small = font(14)
    for i, (thumb, shot) in enumerate(zip(thumbs, plan.shots)):
        r, c = divmod(i, cols)
        x, y = pad + c * (tw + pad), title_h + r * (th + label_h + pad)
        img = (
            Image.fromarray(np.ascontiguousarray(thumb[..., :3]))
            .convert("RGB")
            .resize((tw, th), Image.Resampling.BICUBIC)
        )
        sheet.paste(img, (x, y))
        num = f"{i + 1:02d}"
        box = draw.textbbox((x + 4, y + 3), num, font=small)
        draw.rectangle((box[0] - 3, box[1] - 2, box[2] + 3, box[3] + 2), fill=(0, 0, 0))
        draw.text((x + 4, y + 3), num, fill=(255, 255, 255), font=small)
        label = f"{timecode(shot.start)}  {shot.section}".rstrip()
        draw.text((x, y + th + 3), label, fill=(200, 200, 200), font=small)
    buf = io.BytesIO()
    sheet.save(buf, format="PNG", optimize=False)
    return atomic_write(out_png, buf.getvalue())
