"""Pipeline helpers that need no rendering."""

from __future__ import annotations

from storyreel import demo_song, pipeline


def test_a_new_demo_song_replaces_the_stale_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("STORYREEL_DEMO_DIR", str(tmp_path))
    stale = tmp_path / "demo-song-0000000000.wav"
    stale.write_bytes(b"old")
    other = tmp_path / "notes.txt"
    other.write_text("mine")
    written = []
    monkeypatch.setattr(demo_song, "synthesize", lambda path: (written.append(path), path.write_bytes(b"new")))

    path = pipeline.demo_song_path()

    assert written == [path] and path.read_bytes() == b"new"
    assert not stale.exists()
    assert other.read_text() == "mine"
    # a second call finds the song and synthesises nothing
    assert pipeline.demo_song_path() == path and len(written) == 1
