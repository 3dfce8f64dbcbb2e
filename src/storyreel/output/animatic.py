"""The animatic: a fast timing preview with one still per shot, held for its length, with the song.

No model runs. Each shot's still is a title card: shot number, its time on
the song (start – end, length, bars, section), the storyboard text and the
full prompt, camera and transition; behind it, when the prompt names
something in the built-in procedural world's vocabulary (a red circle, a
night sky ...), the world's own drawing of it, dimmed. Over the still a
bar fills through the shot, and a dot flashes on every beat (larger on
downbeats), so cuts can be checked against the music before any GPU time is
spent. The plan is the same one `render` makes (pipeline.animatic plans it the
same way, for the same backend), so the cuts and transitions fall on exactly
the frames the render will use.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator

import numpy as np
from PIL import Image, ImageDraw

from .. import __version__, world
from ..errors import StoryreelError
from ..music import MusicMap
from ..plan import Shot, ShotPlan
from .encode import encode
from .text import font, timecode

MAX_WIDTH = 640  # default animatic width (the plan's size scaled down to at most this)


def default_size(plan: ShotPlan) -> tuple[int, int]:
    """The plan's aspect at most MAX_WIDTH wide, both sides even."""
    scale = min(1.0, MAX_WIDTH / plan.width)
    return max(2, round(plan.width * scale / 2) * 2), max(2, round(plan.height * scale / 2) * 2)


def world_still(prompt: str, height: int, width: int, seed: int = 0) -> np.ndarray | None:
    """The procedural world's drawing of a prompt (H, W, 3) uint8, or None when the prompt names nothing it knows."""
    parsed = world.parse(prompt)
    if not parsed["objects"] and parsed["setting"] is None:
        return None
    colours = list(world.COLOUR_WORDS)
    motions = parsed["motions"]
    things = tuple(
        world.Thing(colour or colours[k % len(colours)], shape, motions[k] if k < len(motions) else "still")
        for k, (colour, shape) in enumerate(parsed["objects"][:2])
    )
    scene = world.Scene(things, parsed["setting"] or "night sky", "static")
    rng = np.random.default_rng(seed)
    h, w = max(16, height // 4), max(16, width // 4)
    try:
        layout = world.random_layout(scene, rng, w / h)
        small = world.render(scene, layout, h, w, 1)[0]
    except Exception:  # noqa: BLE001 - a preview nicety: a prompt the world cannot lay out gets a plain card
        return None
    return np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC))


def title_card(plan: ShotPlan, shot: Shot, size: tuple[int, int], picture: np.ndarray | None = None) -> np.ndarray:
    """One shot's still (H, W, 3) uint8 (see module docstring)."""
    w, h = size
    if picture is not None:
        img = Image.fromarray((picture.astype(np.float32) * 0.45).astype(np.uint8))
    else:
        ramp = np.linspace(34, 14, h, dtype=np.float32)[:, None, None] * np.array([0.9, 0.95, 1.2], np.float32)
        img = Image.fromarray(np.broadcast_to(ramp, (h, w, 3)).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    pad = max(4, w // 40)
    big, mid, small = font(max(10, h // 9)), font(max(9, h // 16)), font(max(8, h // 26))
    n = len(plan.shots)
    draw.text((pad, pad), f"SHOT {shot.index + 1:02d}/{n:02d}", fill=(255, 255, 255), font=big)
    y = pad + max(10, h // 9) + pad // 2
    length = shot.end - shot.start
    when = f"{timecode(shot.start)} – {timecode(shot.end)}   {length:.2f}s · {shot.bars:g} bars"
    if shot.section:
        when += f" · {shot.section}"
    draw.text((pad, y), when, fill=(255, 214, 120), font=small)
    y += max(8, h // 26) + pad
    chars = max(12, int(w / (max(9, h // 16) * 0.55)))
    for line in textwrap.wrap(shot.text, chars)[:3]:
        draw.text((pad, y), line, fill=(255, 255, 255), font=mid)
        y += int(max(9, h // 16) * 1.2)
    y += pad // 2
    chars = max(16, int(w / (max(8, h // 26) * 0.55)))
    for line in textwrap.wrap(shot.prompt, chars)[:4]:
        draw.text((pad, y), line, fill=(175, 180, 190), font=small)
        y += int(max(8, h // 26) * 1.25)
    move = shot.camera.move + (" (continuous)" if shot.camera.continuous else "")
    trans = shot.transition.kind + (f" {shot.transition.frames}f" if shot.transition.frames else "")
    draw.text((pad, h - pad - max(8, h // 26) - max(4, h // 60) - 4), f"camera {move} · in: {trans} · seed {shot.seed}",
              fill=(150, 155, 165), font=small)
    return np.asarray(img.convert("RGB")).copy()


def animatic_frames(plan: ShotPlan, size: tuple[int, int], beats: list[float] = (), downbeats: list[float] = (),
                    pictures: bool = True) -> Iterator[np.ndarray]:
    """Yield plan.frames frames at `size` (W, H): each shot's card, with its progress bar and the beat dot."""
    w, h = size
    bar_h, r = max(2, h // 60), max(3, h // 40)
    beat_frames = {round(t * plan.fps) for t in beats}
    down_frames = {round(t * plan.fps) for t in downbeats}
    flash = max(1, round(plan.fps / 12))  # frames a beat dot stays lit
    for shot in plan.shots:
        picture = world_still(shot.prompt, h, w, shot.seed) if pictures else None
        card = title_card(plan, shot, size, picture)
        for g in range(shot.start_frame, shot.end_frame):
            frame = card.copy()
            done = int(round(w * (g - shot.start_frame + 1) / shot.frames))
            frame[h - bar_h:, :done] = (255, 200, 80)
            lit = [g - k for k in range(flash) if g - k in beat_frames or g - k in down_frames]
            if lit:
                rr = r * 2 if lit[0] in down_frames else r
                cx, cy = w - 2 * r - rr, 2 * r + rr // 2
                yy, xx = np.ogrid[-rr:rr + 1, -rr:rr + 1]
                disc = xx * xx + yy * yy <= rr * rr
                y0, x0 = max(0, cy - rr), max(0, cx - rr)
                sub = frame[y0:cy + rr + 1, x0:cx + rr + 1]
                sub[disc[: sub.shape[0], : sub.shape[1]]] = (255, 255, 255)
            yield frame


def write_animatic(plan: ShotPlan, music: MusicMap, song: str | os.PathLike, out: str | os.PathLike, *,
                   size: tuple[int, int] | None = None, pictures: bool = True, crf: int = 23,
                   progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Encode the animatic of `plan` with the song to `out` (MP4); returns its (width, height)."""
    size = size or default_size(plan)
    if size[0] < 16 or size[1] < 16 or size[0] % 2 or size[1] % 2:
        raise StoryreelError(f"animatic size {size[0]}x{size[1]} must be even and at least 16x16", field="--size")
    encode(
        animatic_frames(plan, size, music.beats, music.downbeats, pictures), plan.frames, plan.fps, size,
        song, out, crf=crf, preset="ultrafast", progress=progress,
        metadata={"title": f"{plan.title} (animatic)",
                  "comment": f"storyreel {__version__} animatic: title cards on the song's timing; nothing generated"},
    )
    return size
