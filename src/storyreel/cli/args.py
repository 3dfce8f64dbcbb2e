"""Command-line values -> plain data: sizes, --pick, --only, and clips or stills given as files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import StoryreelError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}


def parse_size(size: str, flag: str = "--size") -> tuple[int, int]:
    """'80x48' -> (80, 48)."""
    try:
        w, h = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise StoryreelError(f"size {size!r} is not WIDTHxHEIGHT, e.g. 80x48", field=flag) from None
    return w, h


def parse_pick(values: list[str]) -> dict[int, int]:
    """'12=3' (shot 12, take 3, both numbered from 1 as in the plan table) -> {11: 2}."""
    picks = {}
    for v in values:
        try:
            shot, take = (int(x) for x in v.split("="))
        except ValueError:
            raise StoryreelError(f"{v!r} is not SHOT=TAKE, e.g. 12=3", field="--pick") from None
        if shot < 1 or take < 1:
            raise StoryreelError(f"{v!r}: shots and takes are numbered from 1", field="--pick")
        picks[shot - 1] = take - 1
    return picks


def parse_only(value: str | None) -> set[int] | None:
    """'12,14' (numbered from 1 as in the plan table) -> {11, 13}."""
    if not value:
        return None
    try:
        shots = {int(x) for x in value.split(",") if x.strip()}
    except ValueError:
        raise StoryreelError(f"{value!r} is not a list of shot numbers, e.g. 12,14", field="--only") from None
    if any(n < 1 for n in shots):
        raise StoryreelError(f"{value!r}: shots are numbered from 1", field="--only")
    return {n - 1 for n in shots}


def load_frames(path: Path) -> np.ndarray:
    """A clip (video file) or a still image as (T, H, W, 3) uint8."""
    from ..output.clip import read_frames  # deferred: PyAV is only needed when a clip is given

    if not path.exists():
        raise StoryreelError("file not found", file=str(path))
    if path.suffix.lower() in IMAGE_SUFFIXES:
        from PIL import Image  # deferred: as above

        try:
            return np.asarray(Image.open(path).convert("RGB"))[None]
        except OSError as e:
            raise StoryreelError(f"cannot read image: {e}", file=str(path)) from None
    return read_frames(path)
