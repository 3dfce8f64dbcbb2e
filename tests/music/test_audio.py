"""load_audio / audio_hash / write_wav: formats, resampling and every user-facing error."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from storyreel.music.audio import _decode_av, audio_hash, load_audio, write_wav
from storyreel.errors import StoryreelError

SR = 22050


def tone(seconds: float, sr: int = SR, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    y = 0.3 * np.sin(2 * np.pi * freq * t).astype(np.float32)
    return np.stack([y] * channels) if channels > 1 else y


def write_av(path: Path, y: np.ndarray, sr: int, codec: str, fmt: str | None = None,
             options: dict[str, str] | None = None) -> Path:
    """Encode mono float audio with PyAV (FFmpeg), e.g. codec 'libmp3lame' or 'aac'.

    Frames are handed over as planar float; PyAV converts them to the codec's sample format.
    fmt/options: the muxer and its options (e.g. {"use_editlist": "0"} for an MP4 that does not say its delay).
    """
    import av

    with av.open(str(path), "w", format=fmt, options=options or {}) as out:
        stream = out.add_stream(codec, rate=sr, layout="mono")
        step = 1024
        for i in range(0, len(y), step):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(y[None, i : i + step]), format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = sr, i, Fraction(1, sr)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


# --- formats --------------------------------------------------------------------------------------


def test_wav_stereo_44k_is_mixed_down_and_resampled(tmp_path):
    path = tmp_path / "song.wav"
    sf.write(path, tone(6.0, sr=44100, channels=2).T, 44100)
    y, sr = load_audio(path)
    assert sr == SR and y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - 6.0 * SR) <= 2
    assert 0.25 < np.max(np.abs(y)) < 0.35


def test_keeps_channels_when_not_mono(tmp_path):
    path = tmp_path / "song.flac"
    sf.write(path, tone(6.0, channels=2).T, SR)
    y, _ = load_audio(path, mono=False)
    assert y.shape == (2, int(6.0 * SR))


@pytest.mark.parametrize("name,codec", [("song.mp3", "libmp3lame"), ("song.m4a", "aac")])
def test_compressed_formats_decode(tmp_path, name, codec):
    path = write_av(tmp_path / name, tone(6.0, sr=44100), 44100, codec)
    y, sr = load_audio(path)
    assert sr == SR
    assert abs(len(y) / SR - 6.0) < 0.15  # encoder padding adds a few ms
    # the 440 Hz tone survives the codec: its spectral peak is where it should be
    spec = np.abs(np.fft.rfft(y[SR : 3 * SR]))
    assert abs(np.argmax(spec) * SR / (2 * SR) - 440.0) < 2.0


def test_pyav_decoder_reads_mp3_directly(tmp_path):
    """The FFmpeg fallback itself (soundfile may read mp3 first on new libsndfile)."""
    path = write_av(tmp_path / "song.mp3", tone(6.0), SR, "libmp3lame")
    y, sr = _decode_av(path, max_seconds=1200)
    assert sr == SR and y.shape[0] == 1 and abs(y.shape[1] / SR - 6.0) < 0.15


def clicks(seconds: float, sr: int, every: float = 0.5) -> np.ndarray:
    """Sharp clicks every `every` seconds from 0.5 s on: easy to time to the sample after any codec."""
    y = np.zeros(int(seconds * sr), dtype=np.float32)
    for t in np.arange(0.5, seconds - 0.5, every):
        i = int(round(t * sr))
        y[i : i + 64] = 0.8 * np.hanning(128)[64:]
    return y


def click_times(y: np.ndarray, sr: int) -> np.ndarray:
    """Time each click's onset: the first sample above half the peak in each 0.25 s window."""
    above = np.flatnonzero(np.abs(y) > 0.5 * np.max(np.abs(y)))
    firsts = above[np.concatenate([[True], np.diff(above) > 0.25 * sr])]
    return firsts / sr


@pytest.mark.parametrize("name,codec,fmt,options", [
    ("song.m4a", "aac", "mp4", None),  # FFmpeg writes an edit list: the delay is said in the file
    ("plain.m4a", "aac", "mp4", {"use_editlist": "0"}),  # says nothing: the usual 1,024 samples
    ("song.aac", "aac", "adts", None),  # raw ADTS: nowhere to say it
    ("song.mp3", "libmp3lame", "mp3", None),  # LAME/Xing header
    ("plain.mp3", "libmp3lame", "mp3", {"write_xing": "0"}),  # no header: LAME's usual delay
])
def test_encoder_delay_is_removed(tmp_path, name, codec, fmt, options):
    """The clicks of an encoded file land where the WAV's do, within 5 ms (a beat from it would too)."""
    y = clicks(8.0, 44100)
    sf.write(tmp_path / "song.wav", y, 44100)
    ref, _ = load_audio(tmp_path / "song.wav")
    got, _ = load_audio(write_av(tmp_path / name, y, 44100, codec, fmt, options))
    want, have = click_times(ref, SR), click_times(got, SR)
    assert len(have) == len(want) == 14
    assert np.max(np.abs(have - want)) < 0.005, (have - want)[:3]


# --- errors ---------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(StoryreelError, match="not found") as e:
        load_audio(tmp_path / "nope.wav")
    assert "nope.wav" in str(e.value)


def test_directory_is_not_audio(tmp_path):
    with pytest.raises(StoryreelError, match="not a file"):
        load_audio(tmp_path)


@pytest.mark.parametrize("name", ["song.wav", "song.mp3", "song.m4a", "song.bin"])
def test_corrupt_bytes(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(StoryreelError, match="not a readable audio file|no audio") as e:
        load_audio(path)
    assert name in str(e.value)


def test_text_file_is_not_audio(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("verse, chorus, verse\n")
    with pytest.raises(StoryreelError, match="not a readable audio file"):
        load_audio(path)


def test_silent(tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(int(6 * SR), dtype=np.float32), SR)
    with pytest.raises(StoryreelError, match="silent"):
        load_audio(path)


def test_too_short(tmp_path):
    path = tmp_path / "blip.wav"
    sf.write(path, tone(3.0), SR)
    with pytest.raises(StoryreelError, match=r"only 3\.0 s long"):
        load_audio(path)


def test_too_long_from_header(tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, tone(12.0), SR)
    with pytest.raises(StoryreelError, match="trim it or pass --max-minutes") as e:
        load_audio(path, max_seconds=10)
    assert "long.wav" in str(e.value) and "longer than 10 s" in str(e.value)


def test_too_long_default_message_names_20_minutes(tmp_path):
    from storyreel.music.audio import _too_long_message

    assert "longer than 20 minutes; trim it or pass --max-minutes" in _too_long_message(1500, 1200)


def test_too_long_compressed(tmp_path):
    path = write_av(tmp_path / "long.m4a", tone(12.0), SR, "aac")
    with pytest.raises(StoryreelError, match="trim it or pass --max-minutes"):
        load_audio(path, max_seconds=10)


def test_errors_are_one_line(tmp_path):
    with pytest.raises(StoryreelError) as e:
        load_audio(tmp_path / "missing.flac")
    assert "\n" not in str(e.value) and e.value.exit_code == 2


# --- hashing and writing --------------------------------------------------------------------------


def test_audio_hash(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, tone(6.0), SR)
    assert audio_hash(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    other = tmp_path / "b.wav"
    sf.write(other, tone(6.0, freq=441.0), SR)
    assert audio_hash(other) != audio_hash(path)
    with pytest.raises(StoryreelError, match="not found"):
        audio_hash(tmp_path / "missing.wav")


def test_write_wav_is_atomic_and_roundtrips(tmp_path):
    path = write_wav(tmp_path / "sub" / "out.wav", tone(6.0), SR)
    assert [p.name for p in path.parent.iterdir()] == ["out.wav"]  # no temporary left behind
    y, sr = load_audio(path)
    assert sr == SR and np.max(np.abs(y - tone(6.0))) < 1e-3


def test_a_header_rate_that_resamples_to_nothing_is_a_storyreel_error(tmp_path):
    """Found by the fuzz test: a WAV whose header claims ~772 MHz, so its samples resample to an empty array."""
    import struct

    from storyreel.errors import StoryreelError
    from storyreel.music import audio

    samples = (np.sin(np.arange(400) / 5) * 20000).astype("<i2").tobytes()
    rate = 0x2E000000
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    data = b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVEfmt " + struct.pack("<I", 16) + fmt
    data += b"data" + struct.pack("<I", len(samples)) + samples
    path = tmp_path / "odd.wav"
    path.write_bytes(data)
    with pytest.raises(StoryreelError) as e:
        audio.load_audio(path)
    assert "\n" not in str(e.value)
