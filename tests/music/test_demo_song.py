"""The demo-song synthesiser: exact ground truth, determinism, and the file it writes."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from storyreel.music.demo_song import DEMO, fingerprint, ground_truth, synthesize
from storyreel.music.songspec import GroundTruth, PartSpec, SongSpec
from storyreel.music.synth import synth_song

SR = 22050


def short_spec(**kw) -> SongSpec:
    parts = (
        PartSpec("verse", 4, ("Am7", "Fmaj7"), frozenset({"pad", "kick", "snare", "hats", "bass"}), gain_db=-3),
        PartSpec("chorus", 4, ("Fmaj7", "G"), frozenset({"pad", "kick", "snare", "hats", "openhat", "bass", "lead"})),
        PartSpec("bridge", 2, ("Dm7", "E7"), frozenset({"pad", "kick", "arp"})),
    )
    return SongSpec(parts, **{"tempo": 120.0, "seed": 3, **kw})


def test_demo_ground_truth_shape():
    gt = ground_truth()
    assert isinstance(gt, GroundTruth)
    assert gt.tempo == 100.0 and gt.beats_per_bar == 4
    assert len(gt.beats) == 400 and len(gt.downbeats) == 100  # 100 bars of 4/4
    assert gt.downbeats == gt.beats[::4]
    assert np.allclose(np.diff(gt.beats), 0.6)
    assert 235 <= gt.duration <= 250  # about four minutes
    names = [n for n, _, _ in gt.sections]
    assert names == ["intro", "verse", "chorus", "verse", "chorus", "bridge", "chorus", "outro"]
    for (_, _, end), (_, start, _) in zip(gt.sections[:-1], gt.sections[1:]):
        assert end == start  # contiguous
    assert all(s in gt.downbeats for _, s, _ in gt.sections)  # sections start on downbeats


def test_ground_truth_matches_synthesis():
    spec = short_spec()
    y, gt = synth_song(spec, SR)
    assert gt == ground_truth(spec)
    assert len(y) == round(gt.duration * SR)


def test_synthesis_is_deterministic_and_in_range():
    a, _ = synth_song(short_spec(), SR)
    b, _ = synth_song(short_spec(), SR)
    c, _ = synth_song(short_spec(seed=4), SR)
    assert a.dtype == np.float32
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert 0.8 < np.max(np.abs(a)) <= 0.9  # normalised to about -1 dBFS


def test_tempo_ramp_and_meter():
    gt = ground_truth(short_spec(tempo=90.0, tempo_end=120.0, beats_per_bar=3))
    ibi = np.diff(gt.beats)
    assert np.all(np.diff(ibi) < 0)  # every beat a little faster
    assert ibi[0] == pytest.approx(60 / 90, rel=1e-3) and ibi[-1] == pytest.approx(60 / 120, rel=0.02)
    assert gt.downbeats == gt.beats[::3]
    assert len(gt.beats) == 10 * 3


def test_sections_differ_in_loudness():
    """Choruses are louder than verses, verses than the quiet intro (the demo's first parts, 2 bars each)."""
    spec = replace(DEMO, parts=tuple(replace(p, bars=2) for p in DEMO.parts[:3]), fade_out_bars=0)
    y, gt = synth_song(spec, SR)
    rms = {}
    for name, s, e in gt.sections:
        seg = y[int(s * SR) : int(e * SR)]
        rms.setdefault(name, []).append(20 * np.log10(np.sqrt(np.mean(seg**2))))
    assert np.mean(rms["chorus"]) > np.mean(rms["verse"]) + 1.5
    assert np.mean(rms["verse"]) > np.mean(rms["intro"]) + 4


def test_fade_out_ends_in_silence():
    y, gt = synth_song(short_spec(fade_out_bars=2), SR)
    tail = y[int((gt.duration - 2.0) * SR) :]
    assert np.max(np.abs(tail)) < 0.02


def test_synthesize_writes_wav(tmp_path):
    out = tmp_path / "song.wav"
    gt = synthesize(out, spec=short_spec())
    data, sr = sf.read(out)
    assert sr == SR and abs(len(data) / sr - gt.duration) < 1e-3
    assert [p.name for p in tmp_path.iterdir()] == ["song.wav"]


def test_bad_specs_are_refused():
    bad_chord = SongSpec((PartSpec("v", 2, ("Hm7",), frozenset({"pad"})),))
    with pytest.raises(ValueError, match="chord"):
        synth_song(bad_chord, SR)
    bad_inst = SongSpec((PartSpec("v", 2, ("C",), frozenset({"banjo"})),))
    with pytest.raises(ValueError, match="instruments"):
        synth_song(bad_inst, SR)


def test_fingerprint_is_the_same_in_every_process():
    # the demo song's file name comes from it: a per-process value re-synthesised the song on every render
    code = "from storyreel.music import demo_song; print(demo_song.fingerprint())"
    seen = {
        subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True, check=True).stdout
        for seed in ("1", "2", "3")
    }
    assert len(seen) == 1
    assert fingerprint() != fingerprint(replace(DEMO, seed=DEMO.seed + 1))


def test_a_new_demo_song_replaces_the_stale_ones(tmp_path, monkeypatch):
    from storyreel.music import demo_song

    monkeypatch.setenv("STORYREEL_DEMO_DIR", str(tmp_path))
    stale = tmp_path / "demo-song-0000000000.wav"
    stale.write_bytes(b"old")
    other = tmp_path / "notes.txt"
    other.write_text("mine")
    written = []
    monkeypatch.setattr(demo_song, "synthesize", lambda path: (written.append(path), path.write_bytes(b"new")))

    path = demo_song.demo_song_path()

    assert written == [path] and path.read_bytes() == b"new"
    assert not stale.exists()
    assert other.read_text() == "mine"
    # a second call finds the song and synthesises nothing
    assert demo_song.demo_song_path() == path and len(written) == 1
