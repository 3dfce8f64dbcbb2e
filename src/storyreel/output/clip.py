"""Plain clips without audio: read a video file's frames, write frames as an MP4 (`storyreel generate`)."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np

from ..errors import StoryreelError
from ..fsio import atomic_path
from .h264 import H264Writer


def read_frames(path: Path | str) -> np.ndarray:
    """All frames of a video file as (T, H, W, 3) uint8."""
    try:
        with av.open(str(path)) as container:
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    except (av.FFmpegError, IndexError, ValueError) as e:
        raise StoryreelError(f"cannot read video: {e}", file=str(path)) from None
    if not frames:
        raise StoryreelError("video has no frames", file=str(path))
    return np.stack(frames)


def write_clip(frames: np.ndarray, fps: float, path: Path | str, *, crf: int = 18, metadata: dict | None = None) -> Path:
    """Write (T, H, W, 3) uint8 frames as an H.264 MP4, atomically.

    Odd sizes are padded by edge replication: 4:2:0 video needs even dimensions.
    """
    path = Path(path)
    t, h, w, _ = frames.shape
    ph, pw = h + (h % 2), w + (w % 2)
    if (ph, pw) != (h, w):
        frames = np.pad(frames, ((0, 0), (0, ph - h), (0, pw - w), (0, 0)), mode="edge")
    with atomic_path(path) as tmp:
        with H264Writer(tmp, fps, (pw, ph), crf=crf, metadata=metadata) as out:
            for frame in frames:
                out.write(frame)
            out.finish()
    return path


def upscale(frames: np.ndarray, factor: int) -> np.ndarray:
    """Bicubic upscale of (T, H, W, 3) uint8 by an integer factor."""
    if factor <= 1:
        return frames
    return np.stack([cv2.resize(f, (f.shape[1] * factor, f.shape[0] * factor), interpolation=cv2.INTER_CUBIC)
                     for f in frames])
