"""Reading and writing plain video files (no audio) with PyAV."""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np

from .errors import StoryreelError


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
    """Write (T, H, W, 3) uint8 frames as H.264 MP4, atomically (temp file + rename).

    Odd sizes are padded by edge replication: yuv420p needs even dimensions.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    t, h, w, _ = frames.shape
    ph, pw = h + (h % 2), w + (w % 2)
    if (ph, pw) != (h, w):
        frames = np.pad(frames, ((0, 0), (0, ph - h), (0, pw - w), (0, 0)), mode="edge")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.mp4")
    try:
        with av.open(str(tmp), "w", format="mp4") as container:
            for k, v in (metadata or {}).items():
                container.metadata[k] = str(v)
            from fractions import Fraction

            stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
            stream.width, stream.height, stream.pix_fmt = pw, ph, "yuv420p"
            stream.options = {"crf": str(crf), "preset": "veryfast"}
            for frame in frames:
                for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def upscale(frames: np.ndarray, factor: int) -> np.ndarray:
    """Bicubic upscale of (T, H, W, 3) uint8 by an integer factor."""
    if factor <= 1:
        return frames
    import cv2

    return np.stack([cv2.resize(f, (f.shape[1] * factor, f.shape[0] * factor), interpolation=cv2.INTER_CUBIC) for f in frames])
