"""Output frames + the song -> MP4 (H.264 + AAC) with PyAV, frame-exact and atomic.

The video has exactly `n_frames` frames at `fps`; the song is decoded,
resampled to 48 kHz stereo and trimmed or padded with silence to exactly the
video's duration, so the MP4 lasts n_frames / fps. Audio and video packets are
interleaved as they are made, so memory stays flat for any length.

The file is written to a hidden temporary name in the destination folder and
renamed into place only when complete; on any error (including Ctrl-C) the
temporary file is deleted, so a half-written video never appears at the
destination.

Colour: frames are converted RGB -> YUV 4:2:0 with OpenCV (BT.601, limited
range; ~10× faster than swscale here) and the stream is tagged BT.601 so
players decode the colours as they were encoded.

Deterministic: the same frames and song give the same bytes (no timestamps in
the file; x264's MB-tree is off, see X264_PARAMS), so a resumed render is
byte-identical to an uninterrupted one.
"""

from __future__ import annotations

import errno
import glob
import os
import secrets
import socket
import tempfile
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from .errors import StoryreelError

AUDIO_RATE = 48000
AUDIO_FRAME = 1024  # AAC frame size in samples
AUDIO_BITRATE = 192_000
BT601 = 6  # AVCOL_SPC_SMPTE170M / AVCOL_PRI_SMPTE170M / AVCOL_TRC_SMPTE170M
RANGE_MPEG = 1  # limited (TV) range, what cv2's RGB2YUV_I420 produces
# Deterministic bytes: with x264's MB-tree rate control the same frames gave different bitstreams from run to
# run (its result depended on leftover memory from earlier work in the process), so a resumed render could
# not be byte-identical to an uninterrupted one. Without it, same frames + song -> same MP4.
X264_PARAMS = "mbtree=0"
_MP4_KEYS = {"encoder": "encoding_tool"}  # the muxer overwrites "encoder"; "encoding_tool" lands in ©too


# Failures of the storage rather than of the input: disk full, quota, read-only, no permission, too big.
STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}


def storage_error(e: BaseException, path: str | os.PathLike | None = None) -> StoryreelError | None:
    """A one-line StoryreelError for a storage failure (naming `path`, else the file the OS named), or None."""
    if not isinstance(e, OSError) or e.errno not in STORAGE_ERRNOS:
        return None
    what = (e.strerror or os.strerror(e.errno)).lower()
    hint = "; free some space and run the command again" if e.errno in {errno.ENOSPC, errno.EDQUOT, errno.EFBIG} else ""
    return StoryreelError(f"{what}{hint}", file=str(path if path is not None else (e.filename or "output")))


def check_writable(out_path: str | os.PathLike) -> Path:
    """Make sure `out_path` can be written (creating its folder); raise StoryreelError naming it if not.

    Call before heavy work so a typo in -o fails in a second, not after the render.
    """
    path = Path(out_path)
    if path.is_dir():
        raise StoryreelError("the output path is a folder; give a file name", file=str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe_file = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".check")
        os.close(fd)
        os.unlink(probe_file)
    except OSError as e:
        raise StoryreelError(f"cannot write the output here ({e.strerror or e})", file=str(path)) from None
    return path


def _rate(fps: float) -> Fraction:
    """fps as an exact fraction (23.976 -> 24000/1001)."""
    return Fraction(fps).limit_denominator(1001)


def _open_audio(audio_path: str | os.PathLike) -> av.container.InputContainer:
    """Open the song now (before any heavy work), or raise StoryreelError naming it."""
    try:
        src = av.open(str(audio_path))
    except (av.FFmpegError, OSError) as e:
        raise StoryreelError(f"cannot read the audio ({e})", file=str(audio_path)) from None
    if not src.streams.audio:
        src.close()
        raise StoryreelError("the file has no audio stream", file=str(audio_path))
    return src


def _audio_chunks(src: av.container.InputContainer, total: int) -> Iterator[np.ndarray]:
    """The song as float32 (2, <=AUDIO_FRAME) chunks at 48 kHz stereo, exactly `total` samples (trim or pad).

    Closes `src` when exhausted or closed.
    """
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
    buf = np.zeros((2, 0), dtype=np.float32)
    done = 0
    with src:
        decoded = (f for packet in src.demux(src.streams.audio[0]) for f in packet.decode())
        for frame in _chain(decoded, [None]):  # None flushes the resampler
            for out in resampler.resample(frame):
                buf = np.concatenate([buf, out.to_ndarray().reshape(2, -1)], axis=1)  # (2, n)
            while buf.shape[1] >= AUDIO_FRAME and done < total:
                n = min(AUDIO_FRAME, total - done)
                yield buf[:, :n]
                buf, done = buf[:, n:], done + n
            if done >= total:
                return
    if buf.shape[1] and done < total:  # the tail of the song
        n = min(buf.shape[1], total - done)
        yield buf[:, :n]
        done += n
    while done < total:  # the song is shorter than the video: pad with silence
        n = min(AUDIO_FRAME, total - done)
        yield np.zeros((2, n), dtype=np.float32)
        done += n


def _chain(*iterables: Iterable) -> Iterator:
    for it in iterables:
        yield from it


_HOST = "".join(c for c in socket.gethostname() if c.isalnum())[:32] or "host"


def remove_stale_partials(path: Path) -> int:
    """Delete temporary files next to `path` left by writers on this host that are gone (killed, kill -9).

    A live writer's file (its process still exists) is left alone. Returns how many were removed.
    """
    removed = 0
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.{_HOST}-*.part"):
        try:
            pid = int(tmp.name[len(f".{path.name}.{_HOST}-"):].split("-")[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            tmp.unlink(missing_ok=True)
            removed += 1
        except (ValueError, PermissionError, OSError):
            pass  # not ours to judge, or alive under another user
    return removed


def _temp_path(path: Path) -> Path:
    """Create a fresh hidden file next to `path` (same filesystem, so the final rename is atomic).

    Created with mode 0666 minus the umask, like any normal output file.
    """
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{_HOST}-{os.getpid()}-{secrets.token_hex(4)}.part"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue
    raise StoryreelError("cannot create a temporary file next to the output", file=str(path))


def encode(
    frames: Iterable[np.ndarray],
    n_frames: int,
    fps: float,
    size: tuple[int, int],
    audio_path: str | os.PathLike | None,
    out_path: str | os.PathLike,
    *,
    metadata: dict | None = None,
    crf: int = 20,
    preset: str = "veryfast",
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Encode exactly n_frames RGB frames (height, width, 3) uint8 at fps, with the song, into an MP4.

    size is (width, height), both even (4:2:0). audio_path None writes a
    silent video (no audio track). metadata keys such as title, comment and
    encoder become MP4 tags. progress(n_done) is called after every frame.
    Returns the output path.
    """
    width, height = size
    if width % 2 or height % 2:
        raise StoryreelError(f"output size {width}x{height} must be even for H.264 4:2:0", field="size")
    path = check_writable(out_path)
    total_samples = int(round(n_frames / fps * AUDIO_RATE))
    song = _open_audio(audio_path) if audio_path is not None else None
    audio = _audio_chunks(song, total_samples) if song is not None else None
    tmp: Path | None = None
    try:
        remove_stale_partials(path)
        tmp = _temp_path(path)
        _write(tmp, frames, n_frames, fps, (width, height), audio, metadata or {}, crf, preset, progress)
        os.replace(tmp, path)
    except BaseException as e:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        err = storage_error(e, path)
        if err is not None:
            raise err from None
        raise
    finally:
        if song is not None:
            audio.close()
            song.close()
    return path


def _write(
    tmp: Path,
    frames: Iterable[np.ndarray],
    n_frames: int,
    fps: float,
    size: tuple[int, int],
    audio: Iterator[np.ndarray] | None,
    metadata: dict,
    crf: int,
    preset: str,
    progress: Callable[[int], None] | None,
) -> None:
    """Mux video (and audio) into `tmp`, interleaving audio up to each video frame's end time."""
    width, height = size
    rate = _rate(fps)
    with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        for key, value in metadata.items():
            out.metadata[_MP4_KEYS.get(key, key)] = str(value)
        video = out.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"crf": str(crf), "preset": preset, "x264-params": X264_PARAMS}
        cc = video.codec_context
        cc.colorspace, cc.color_primaries, cc.color_trc, cc.color_range = BT601, BT601, BT601, RANGE_MPEG
        astream = None
        if audio is not None:
            astream = out.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
            astream.bit_rate = AUDIO_BITRATE
        samples_out = 0

        def write_audio(until: int) -> None:
            nonlocal samples_out
            while samples_out < until:
                chunk = next(audio, None)
                if chunk is None:
                    return
                af = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout="stereo")
                af.sample_rate, af.pts = AUDIO_RATE, samples_out
                out.mux(astream.encode(af))
                samples_out += chunk.shape[1]

        it = iter(frames)
        for i in range(n_frames):
            rgb = next(it, None)
            if rgb is None:
                raise ValueError(f"the frame source ended after {i} of {n_frames} frames")
            if rgb.shape != (height, width, 3) or rgb.dtype != np.uint8:
                raise ValueError(f"frame {i}: expected ({height}, {width}, 3) uint8, got {rgb.shape} {rgb.dtype}")
            yuv = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV_I420)  # (H·3/2, W) planar
            vf = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            vf.pts, vf.time_base = i, 1 / rate
            out.mux(video.encode(vf))
            if astream is not None:
                write_audio(int(round((i + 1) / rate * AUDIO_RATE)))
            if progress is not None:
                progress(i + 1)
        if next(it, None) is not None:
            raise ValueError(f"the frame source has more than {n_frames} frames")
        out.mux(video.encode(None))
        if astream is not None:
            write_audio(1 << 62)
            out.mux(astream.encode(None))


def probe(path: str | os.PathLike) -> dict:
    """What an encoded file holds: size, fps, exact frame count, duration, codecs, audio format, metadata tags."""
    with av.open(str(path)) as c:
        info: dict = {"duration": (c.duration or 0) / av.time_base, "metadata": dict(c.metadata)}
        if c.streams.video:
            v = c.streams.video[0]
            frames = v.frames or sum(1 for p in c.demux(v) if p.size)
            info.update(
                width=v.codec_context.width,
                height=v.codec_context.height,
                fps=float(v.average_rate or v.guessed_rate or 0),
                frames=frames,
                video_codec=v.codec_context.name,
                pix_fmt=v.codec_context.pix_fmt,
                video_duration=float(v.duration * v.time_base) if v.duration else None,
            )
        if c.streams.audio:
            a = c.streams.audio[0]
            info.update(
                audio_codec=a.codec_context.name,
                audio_rate=a.codec_context.sample_rate,
                audio_channels=a.codec_context.channels,
                audio_duration=float(a.duration * a.time_base) if a.duration else None,
            )
        else:
            info["audio_codec"] = None
    return info
