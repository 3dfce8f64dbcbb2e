"""Hostile input: mutated audio files and storyboards reaching outside their folder.

Audio fuzzing: valid WAV, FLAC, MP3 and M4A (AAC) files are damaged by hypothesis (bit
flips, header garbage, zeroed runs, insertions, truncation) and loaded with
storyreel.music.audio.load_audio, and a few analysed end to end with
music.analyze. Only storyreel's own one-line StoryreelError may come out:
never another exception, never a hang (each example runs under a timer).
Examples are bounded so this stays a few seconds in CI.
"""

from __future__ import annotations

import io
import signal
from contextlib import contextmanager
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fakes import make_song
from storyreel import music
from storyreel.music import audio
from storyreel.cli import app
from storyreel.errors import StoryreelError

SECONDS = 6.0
SR = 8000


def _tone() -> np.ndarray:
    t = np.arange(int(SECONDS * SR)) / SR
    y = 0.3 * np.sin(2 * np.pi * 220 * t)
    y[(t % 0.5) < 0.01] += 0.5  # clicks on the beat, so analysis finds a grid
    return y.astype(np.float32)


def _wav() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, _tone(), SR, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _flac() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, _tone(), SR, format="FLAC")
    return buf.getvalue()


def _mp3() -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp3") as out:
        s = out.add_stream("mp3", rate=SR, layout="mono")
        y = _tone()
        for i in range(0, len(y), 1152):
            frame = av.AudioFrame.from_ndarray(y[None, i:i + 1152], format="fltp", layout="mono")
            frame.sample_rate, frame.pts = SR, i
            out.mux(s.encode(frame))
        out.mux(s.encode(None))
    return buf.getvalue()


def _m4a() -> bytes:
    """AAC in MP4: a format libsndfile cannot read, so it goes through the FFmpeg decoder."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        s = out.add_stream("aac", rate=SR, layout="mono")
        y = _tone()
        for i in range(0, len(y), 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(y[None, i:i + 1024]), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = SR, i
            out.mux(s.encode(frame))
        out.mux(s.encode(None))
    return buf.getvalue()


SEEDS = {"wav": _wav(), "flac": _flac(), "mp3": _mp3(), "m4a": _m4a()}


@st.composite
def mutated(draw):
    """(suffix, damaged bytes) from one of the seed files."""
    kind = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[kind])
    for _ in range(draw(st.integers(1, 4))):
        n = len(data)
        if n == 0:
            break
        pos = draw(st.one_of(st.integers(0, min(n - 1, 96)), st.integers(0, n - 1)))  # headers get extra attention
        op = draw(st.sampled_from(["flip", "garbage", "zero", "insert", "truncate"]))
        if op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "garbage":
            junk = draw(st.binary(min_size=1, max_size=16))
            data[pos:pos + len(junk)] = junk
        elif op == "zero":
            length = draw(st.integers(1, 4096))
            data[pos:pos + length] = bytes(min(length, n - pos))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=64))
        else:
            del data[pos:]
    return kind, bytes(data)


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: float):
    """Fail an example that runs longer than `seconds` (a hang), instead of stalling the suite."""

    def on_alarm(signum, frame):
        raise Hang(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_seed_files_load():
    import tempfile

    for kind, data in SEEDS.items():
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / f"song.{kind}"
            p.write_bytes(data)
            y, sr = audio.load_audio(p, sr=SR)
            assert abs(len(y) / sr - SECONDS) < 0.2, kind


@pytest.mark.timeout(300)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=mutated())
def test_damaged_audio_loads_or_gives_a_storyreel_error(tmp_path, case):
    kind, data = case
    path = tmp_path / f"song.{kind}"
    path.write_bytes(data)
    with time_limit(20):
        try:
            y, sr = audio.load_audio(path, sr=SR)
        except StoryreelError as e:
            assert str(path) in e.format() and "\n" not in e.format()
            return
    assert y.dtype == np.float32 and np.isfinite(y).all() and len(y) / sr >= audio.MIN_SECONDS


@pytest.mark.timeout(300)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=mutated())
def test_damaged_audio_analyses_or_gives_a_storyreel_error(tmp_path, case):
    kind, data = case
    path = tmp_path / f"song.{kind}"
    path.write_bytes(data)
    with time_limit(60):
        try:
            mm = music.analyze(path, use_cache=False)
        except StoryreelError:
            return
    assert mm.duration >= audio.MIN_SECONDS and len(mm.beats) > 0


# ----------------------------------------------------------------------------- --sandbox on the command line

runner = CliRunner()


@pytest.mark.parametrize("song", ["../outside/song.wav", "/ABS/song.wav", "music/../../outside/song.wav"])
def test_render_sandbox_refuses_paths_leaving_the_storyboard_folder(tmp_path, monkeypatch, song):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    (tmp_path / "outside").mkdir()
    make_song(tmp_path / "outside" / "song.wav", 6.0)
    board = tmp_path / "project" / "board.yaml"
    board.parent.mkdir()
    song = song.replace("/ABS", str(tmp_path / "outside").rstrip("/")).replace("/song.wav/song.wav", "/song.wav")
    board.write_text(f"title: t\nsong: {song}\nshots:\n  - a red star stays still\n")
    out = tmp_path / "o" / "x.mp4"
    res = runner.invoke(app, ["render", str(board), "-o", str(out), "--sandbox", "--cache-dir", str(tmp_path / "c")])
    assert res.exit_code == 2, res.output
    assert "sandbox" in res.output and "board.yaml" in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert not out.exists() and not (tmp_path / "c").exists()  # refused before any work


def test_without_sandbox_the_same_relative_path_is_allowed(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    (tmp_path / "outside").mkdir()
    make_song(tmp_path / "outside" / "song.wav", 6.0)
    board = tmp_path / "project" / "board.yaml"
    board.parent.mkdir()
    board.write_text("title: t\nsong: ../outside/song.wav\nshots:\n  - a red star stays still\n")
    res = runner.invoke(app, ["plan", str(board), "--json"])
    assert res.exit_code == 0, res.output


def test_a_wav_naming_an_unknown_codec_is_a_storyreel_error(tmp_path):
    """Found by the fuzzer: FFmpeg opens the file but has no decoder for its codec tag."""
    data = bytearray(SEEDS["wav"])
    data[20:22] = (0x7777).to_bytes(2, "little")  # the fmt chunk's audio format
    path = tmp_path / "song.wav"
    path.write_bytes(bytes(data))
    with pytest.raises(StoryreelError, match="unknown audio codec"):
        audio.load_audio(path, sr=SR)
