"""Encoding: H.264 + AAC MP4, frame-exact, metadata, atomic on failure, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from fakes import make_song

from storyreel.fsio import check_writable
from storyreel.output.encode import encode, probe
from storyreel.errors import StoryreelError

W, H, FPS = 160, 90, 24
META = {"title": "A test reel", "comment": "storyboard abc123", "encoder": "storyreel 0.1.0 (model: builtin)"}


def frames(n: int):
    """n distinct RGB frames (H, W, 3): a moving bar over a colour ramp."""
    for i in range(n):
        f = np.zeros((H, W, 3), dtype=np.uint8)
        f[..., 0] = np.linspace(0, 255, W, dtype=np.uint8)
        f[:, (i * 5) % W : (i * 5) % W + 8] = 255
        yield f


@pytest.mark.parametrize("song_seconds", [0.6, 3.0])  # shorter than the video (padded) and longer (trimmed)
def test_encode_writes_exact_h264_aac_with_metadata(tmp_path, song_seconds):
    song = make_song(tmp_path / "song.wav", song_seconds, channels=1)
    out = tmp_path / "sub" / "video.mp4"
    n = 37
    calls = []
    encode(frames(n), n, FPS, (W, H), song, out, metadata=META, progress=calls.append)
    info = probe(out)
    assert info["video_codec"] == "h264" and info["audio_codec"] == "aac"
    assert (info["width"], info["height"], info["fps"], info["frames"]) == (W, H, 24.0, n)
    assert info["pix_fmt"] == "yuv420p"
    assert (info["audio_rate"], info["audio_channels"]) == (48000, 2)
    assert abs(info["duration"] - n / FPS) <= 1 / FPS
    assert abs(info["audio_duration"] - n / FPS) <= 1 / FPS
    for key, value in META.items():
        assert info["metadata"][key] == value
    assert calls == list(range(1, n + 1))
    assert [p.name for p in out.parent.iterdir()] == ["video.mp4"]  # no temporary files left behind


def test_encode_without_audio(tmp_path):
    out = encode(frames(10), 10, 30, (W, H), None, tmp_path / "silent.mp4", metadata={"title": "x"})
    info = probe(out)
    assert info["frames"] == 10 and info["audio_codec"] is None and info["fps"] == 30.0


class Boom(RuntimeError):
    pass


def exploding(n_ok: int, exc: BaseException):
    yield from frames(n_ok)
    raise exc


@pytest.mark.parametrize("exc", [Boom("generator failed"), KeyboardInterrupt()])
def test_failure_mid_encode_leaves_nothing_at_the_destination(tmp_path, exc):
    song = make_song(tmp_path / "song.wav", 1.0)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(type(exc)):
        encode(exploding(5, exc), 20, FPS, (W, H), song, out_dir / "video.mp4", metadata={})
    assert list(out_dir.iterdir()) == []


def test_failure_keeps_a_previous_file_intact(tmp_path):
    out = tmp_path / "video.mp4"
    out.write_bytes(b"previous render")
    with pytest.raises(ValueError, match="ended after 3 of 9"):
        encode(frames(3), 9, FPS, (W, H), None, out, metadata={})
    assert out.read_bytes() == b"previous render" and len(list(tmp_path.iterdir())) == 1


def test_unwritable_destination_is_a_user_error_naming_the_path(tmp_path):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("x")
    target = blocker / "video.mp4"
    with pytest.raises(StoryreelError, match="not_a_dir/video.mp4"):
        check_writable(target)
    with pytest.raises(StoryreelError, match="not_a_dir/video.mp4"):
        encode(frames(2), 2, FPS, (W, H), None, target, metadata={})
    with pytest.raises(StoryreelError, match="folder"):
        check_writable(tmp_path)


def test_bad_inputs(tmp_path):
    with pytest.raises(StoryreelError, match="even"):
        encode(frames(1), 1, FPS, (161, 90), None, tmp_path / "v.mp4", metadata={})
    with pytest.raises(StoryreelError, match="audio"):
        encode(frames(2), 2, FPS, (W, H), tmp_path / "missing.wav", tmp_path / "v.mp4", metadata={})
    with pytest.raises(ValueError, match="more than 2"):
        encode(frames(3), 2, FPS, (W, H), None, tmp_path / "v.mp4", metadata={})
    assert not list(tmp_path.glob("*.mp4")) and not list(tmp_path.glob(".*"))
