"""Text on pictures: Pillow's scalable built-in font, and timecodes as people read them."""

from __future__ import annotations

from PIL import ImageFont


def font(size: int) -> ImageFont.ImageFont:
    """Pillow's built-in font at `size` (scalable since Pillow 10.1; bitmap fallback before)."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:
        return ImageFont.load_default()


def timecode(seconds: float) -> str:
    """Seconds as mm:ss.s (rounded to tenths first, so 599.99 is 10:00.0)."""
    tenths = int(round(max(0.0, seconds) * 10))
    m, t = divmod(tenths, 600)
    return f"{m:02d}:{t // 10:02d}.{t % 10}"
