"""Audio in and out: decode any song file to a mono float32 array, hash it, write WAVs atomically.

wav/flac/ogg (and mp3 where libsndfile supports it) go through soundfile, which
is fast and exact; anything else (m4a/aac, opus in mp4, video files with an
audio track) is decoded with PyAV (FFmpeg). Every user-facing failure is a
one-line StoryreelError naming the file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import av
import numpy as np
import soundfile as sf

from ..errors import StoryreelError
from ..fsio import atomic_path

MIN_SECONDS = 5.0  # shorter than this there is no musical grid worth planning on
MAX_SECONDS = 1200.0  # 20 minutes: beyond it analysis and rendering costs explode
SILENCE_PEAK = 1e-4  # -80 dBFS: a file whose loudest sample is below this is treated as silent


def load_audio(
    path: str | os.PathLike,
    sr: int = 22050,
    mono: bool = True,
    *,
    max_seconds: float = MAX_SECONDS,
    min_seconds: float = MIN_SECONDS,
) -> tuple[np.ndarray, int]:
    """Decode `path` to float32 samples at `sr`: shape (n,) if mono else (channels, n).

    Raises StoryreelError for a missing, unreadable, silent, too short or too long file.
    The length limit is checked from the header before decoding where possible, so a
    3-hour file is refused in milliseconds.
    """
    p = Path(path)
    if not p.exists():
        raise StoryreelError("audio file not found", file=str(p))
    if not p.is_file():
        raise StoryreelError("is not a file (expected an audio file)", file=str(p))
    header_seconds = probe_duration(p)
    if header_seconds is not None and header_seconds > max_seconds:
        raise StoryreelError(_too_long_message(header_seconds, max_seconds), file=str(p))

    y, native_sr = _decode(p, max_seconds=max_seconds)  # (channels, n) float32
    if y.shape[-1] == 0:
        raise StoryreelError("contains no audio samples", file=str(p))
    if mono:
        y = y.mean(axis=0)
    if native_sr != sr:
        import soxr  # deferred: only a song at another rate needs it (not librosa: its numba start-up costs ~11 s)

        y = soxr.resample(np.ascontiguousarray(y.T), native_sr, sr, quality="HQ").T
    y = np.ascontiguousarray(y, dtype=np.float32)
    if y.shape[-1] == 0:  # a header's absurd sample rate can resample a few samples down to none
        raise StoryreelError(f"contains no audio at {sr} Hz (its header says {native_sr} Hz)", file=str(p))

    seconds = y.shape[-1] / sr
    if seconds > max_seconds:
        raise StoryreelError(_too_long_message(seconds, max_seconds), file=str(p))
    if not np.isfinite(y).all():
        raise StoryreelError("is corrupt (decoded samples are not finite numbers)", file=str(p))
    if float(np.max(np.abs(y))) < SILENCE_PEAK:
        raise StoryreelError("is silent (peak level below -80 dBFS)", file=str(p))
    if seconds < min_seconds:
        raise StoryreelError(
            f"is only {seconds:.1f} s long; storyreel needs at least {min_seconds:g} s of music", file=str(p)
        )
    return y, sr


def probe_duration(path: Path) -> float | None:
    """Duration in seconds from the file header, or None if the header does not say."""
    try:
        info = sf.info(str(path))
        if info.samplerate > 0 and info.frames > 0:
            return info.frames / info.samplerate
    except Exception:  # not a libsndfile format: ask FFmpeg
        pass
    try:
        with av.open(str(path)) as container:
            if container.duration is not None and container.duration > 0:
                return container.duration / 1_000_000  # av.time_base is microseconds
    except Exception:
        return None
    return None


def audio_hash(path: str | os.PathLike) -> str:
    """sha256 of the file's bytes: the key analysis results are cached under."""
    p = Path(path)
    h = hashlib.sha256()
    try:
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except FileNotFoundError:
        raise StoryreelError("audio file not found", file=str(p)) from None
    except OSError as e:
        raise StoryreelError(f"cannot read file ({e.strerror})", file=str(p)) from None
    return h.hexdigest()


def write_wav(path: str | os.PathLike, y: np.ndarray, sr: int) -> Path:
    """Write float samples ((n,) or (channels, n)) as 16-bit WAV via a temporary name and rename."""
    data = np.asarray(y, dtype=np.float32)
    data = data.T if data.ndim == 2 else data  # soundfile wants (n, channels)
    with atomic_path(path) as tmp:
        sf.write(tmp, np.clip(data, -1.0, 1.0), sr, subtype="PCM_16", format="WAV")
    return Path(path)


# --- decoding -------------------------------------------------------------------------------------


LOSSY_SUFFIXES = frozenset({".mp3", ".m4a", ".mp4", ".aac", ".m4v", ".mov", ".3gp"})
AAC_PRIMING = 1024  # samples every AAC-LC encoder puts before the music (FFmpeg's, and the common default)
MP3_PRIMING = 1105  # LAME's encoder delay (576) plus the MP3 decoder's own (529)


def _decode(path: Path, *, max_seconds: float) -> tuple[np.ndarray, int]:
    """(channels, n) float32 and the file's sample rate; soundfile first, PyAV for lossy formats and as fallback.

    MP3 and AAC go to PyAV even where libsndfile could read them, so the encoder delay is always removed
    the same way (see `_priming`).
    """
    if path.suffix.lower() in LOSSY_SUFFIXES:
        return _decode_av(path, max_seconds=max_seconds)
    try:
        data, native_sr = sf.read(str(path), dtype="float32", always_2d=True)
        return data.T, int(native_sr)
    except Exception:  # libsndfile does not know the format (m4a, ...) or the file is damaged
        pass
    return _decode_av(path, max_seconds=max_seconds)


def _decode_av(path: Path, *, max_seconds: float) -> tuple[np.ndarray, int]:
    """Decode the first audio stream with FFmpeg (PyAV), stopping once past `max_seconds`."""
    try:
        container = av.open(str(path))
    except Exception:
        raise StoryreelError("is not a readable audio file (unknown format or corrupt)", file=str(path)) from None
    with container:
        if not container.streams.audio:
            raise StoryreelError("contains no audio stream", file=str(path))
        stream = container.streams.audio[0]
        if stream.codec_context is None:  # FFmpeg has no decoder for the codec the file names
            raise StoryreelError("is not a readable audio file (unknown audio codec)", file=str(path))
        native_sr = int(stream.rate or stream.codec_context.sample_rate or 0)
        if native_sr <= 0:
            raise StoryreelError("is not a readable audio file (no sample rate)", file=str(path))
        # Resample to planar float at the native rate; channel layout is kept so mono mixing stays ours.
        resampler = av.AudioResampler(format="fltp", rate=native_sr)
        chunks: list[np.ndarray] = []
        n = 0
        skip = 0
        try:
            for i, packet in enumerate(container.demux(stream)):  # the last, empty packet flushes the decoder
                if i == 0:
                    skip = _priming(stream, packet, container)
                for out in (o for frame in packet.decode() for o in resampler.resample(frame)):
                    arr = out.to_ndarray()
                    chunks.append(arr)
                    n += arr.shape[-1]
                if n > (max_seconds + 1.0) * native_sr:
                    raise StoryreelError(_too_long_message(n / native_sr, max_seconds), file=str(path))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
        except StoryreelError:
            raise
        except Exception:
            if not chunks:
                raise StoryreelError("is not a readable audio file (corrupt audio data)", file=str(path)) from None
            # A truncated tail is common in real files: keep what decoded.
    if not chunks:
        raise StoryreelError("contains no audio samples", file=str(path))
    channels = max(c.shape[0] for c in chunks)
    chunks = [c if c.shape[0] == channels else np.repeat(c[:1], channels, axis=0) for c in chunks]
    return np.concatenate(chunks, axis=1)[:, skip:].astype(np.float32, copy=False), native_sr


def _priming(stream: "av.audio.stream.AudioStream", first: "av.Packet", container) -> int:
    """Samples of encoder delay at the start of the decoded stream that FFmpeg has not already removed.

    A file that signals its delay (an MP4 edit list: the first packet's pts is negative; an MP3 LAME/Xing
    header: the stream starts after 0) is trimmed by FFmpeg itself. Otherwise (MP4 without an edit list,
    raw ADTS, an MP3 without a LAME header) the delay is read from an iTunSMPB tag, or is the codec's
    usual one: without this every beat of an .m4a comes 23 ms late.
    """
    if (first.pts is not None and first.pts < 0) or (stream.start_time or 0) > 0:
        return 0
    name = stream.codec_context.name
    tags = {**dict(container.metadata), **dict(stream.metadata)}
    smpb = next((v for k, v in tags.items() if k.lower() == "itunsmpb"), None)
    if smpb and name == "aac":
        try:
            return int(smpb.split()[1], 16)
        except (IndexError, ValueError):
            pass
    return {"aac": AAC_PRIMING, "mp3": MP3_PRIMING, "mp3float": MP3_PRIMING}.get(name, 0)


def _too_long_message(seconds: float, max_seconds: float) -> str:
    limit = f"{max_seconds / 60:g} minutes" if max_seconds >= 60 else f"{max_seconds:g} s"
    return f"is {seconds / 60:.1f} minutes long, longer than {limit}; trim it or pass --max-minutes"
