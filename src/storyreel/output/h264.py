"""The one H.264 writer: RGB frames (and optionally AAC audio) -> an MP4, the same bytes for the same input.

Every video storyreel writes goes through `H264Writer`: the render and the
animatic (output.encode, with the song), the per-shot files (output.shot_media)
and `storyreel generate` clips (output.clip).

Colour: frames are converted RGB -> YUV 4:2:0 with OpenCV (BT.601, limited
range; ~10x faster than swscale here) and the stream is tagged BT.601 so
players decode the colours as they were encoded.

Deterministic: no timestamps in the file, and x264's MB-tree is off
(X264_PARAMS): with MB-tree the same frames gave different bitstreams from
run to run (its result depended on leftover memory from earlier work in the
process), so a resumed render could not be byte-identical to an
uninterrupted one.
"""

from __future__ import annotations

import os
from fractions import Fraction

import av
import cv2
import numpy as np

AUDIO_RATE = 48000
AUDIO_BITRATE = 192_000
BT601 = 6  # AVCOL_SPC_SMPTE170M / AVCOL_PRI_SMPTE170M / AVCOL_TRC_SMPTE170M
RANGE_MPEG = 1  # limited (TV) range, what cv2's RGB2YUV_I420 produces
X264_PARAMS = "mbtree=0"
MP4_KEYS = {"encoder": "encoding_tool"}  # the muxer overwrites "encoder"; "encoding_tool" lands in ©too


def frame_rate(fps: float) -> Fraction:
    """fps as an exact fraction (23.976 -> 24000/1001)."""
    return Fraction(fps).limit_denominator(1001)


class H264Writer:
    """An open MP4 at `path` (write it to a temporary name: fsio.atomic_path) with an H.264 stream.

    size is (width, height), both even (4:2:0). metadata keys such as title,
    comment and encoder become MP4 tags. audio=True adds a stereo AAC stream
    fed with `write_audio`. Use as a context manager: leaving it flushes the
    encoders and closes the file.
    """

    def __init__(self, path: str | os.PathLike, fps: float, size: tuple[int, int], *, crf: int = 20,
                 preset: str = "veryfast", metadata: dict | None = None, audio: bool = False):
        self.width, self.height = size
        self.rate = frame_rate(fps)
        self.container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        for key, value in (metadata or {}).items():
            self.container.metadata[MP4_KEYS.get(key, key)] = str(value)
        self.video = self.container.add_stream("libx264", rate=self.rate)
        self.video.width, self.video.height, self.video.pix_fmt = self.width, self.height, "yuv420p"
        self.video.options = {"crf": str(crf), "preset": preset, "x264-params": X264_PARAMS}
        cc = self.video.codec_context
        cc.colorspace, cc.color_primaries, cc.color_trc, cc.color_range = BT601, BT601, BT601, RANGE_MPEG
        self.audio = None
        if audio:
            self.audio = self.container.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
            self.audio.bit_rate = AUDIO_BITRATE
        self.frames = 0
        self.samples = 0

    def write(self, rgb: np.ndarray) -> None:
        """The next video frame, (height, width, 3) uint8 RGB."""
        if rgb.shape != (self.height, self.width, 3) or rgb.dtype != np.uint8:
            raise ValueError(f"frame {self.frames}: expected ({self.height}, {self.width}, 3) uint8, "
                             f"got {rgb.shape} {rgb.dtype}")
        yuv = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV_I420)  # (H·3/2, W) planar
        vf = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        vf.pts, vf.time_base = self.frames, 1 / self.rate
        self.container.mux(self.video.encode(vf))
        self.frames += 1

    def write_audio(self, chunk: np.ndarray) -> None:
        """The next audio samples, float32 (2, n) at AUDIO_RATE."""
        af = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout="stereo")
        af.sample_rate, af.pts = AUDIO_RATE, self.samples
        self.container.mux(self.audio.encode(af))
        self.samples += chunk.shape[1]

    def flush_video(self) -> None:
        """Flush the video encoder: no more frames."""
        self.container.mux(self.video.encode(None))

    def flush_audio(self) -> None:
        """Flush the audio encoder: no more samples."""
        self.container.mux(self.audio.encode(None))

    def finish(self) -> None:
        """Flush every encoder (the file is complete when the writer closes)."""
        self.flush_video()
        if self.audio is not None:
            self.flush_audio()

    def close(self) -> None:
        self.container.close()

    def __enter__(self) -> "H264Writer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
