"""Music analysis against synthesised songs whose beats, bars and sections are known exactly."""

from __future__ import annotations

import json

import mir_eval
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storyreel.errors import StoryreelError
from storyreel.music import MusicMap, Section, analyze, analyze_audio, energy, features, sections
from storyreel.music import analysis
from storyreel.music.demo_song import synthesize
from storyreel.music.plot import plot
from storyreel.music.songspec import PartSpec, SongSpec
from storyreel.music.synth import synth_song

SR = 22050
TOL = 0.07  # seconds: the usual beat-tracking tolerance (mir_eval's f_measure window)

VERSE = frozenset({"pad", "kick", "snare", "hats", "bass"})
CHORUS = frozenset({"pad", "kick", "snare", "hats", "openhat", "bass", "lead"})
BRIDGE = frozenset({"pad", "kick", "arp", "bass"})


def song(tempo: float, meter: int = 4, bars: int = 6, **kw) -> SongSpec:
    """verse / chorus / verse of `bars` bars each: ~25-35 s at the tempi used here."""
    return SongSpec(
        (
            PartSpec("verse", bars, ("Am7", "Fmaj7", "Cmaj7", "G"), VERSE, gain_db=-3),
            PartSpec("chorus", bars, ("Fmaj7", "G", "Em7", "Am7"), CHORUS, brightness=0.9),
            PartSpec("verse", bars, ("Am7", "Fmaj7", "Cmaj7", "G"), VERSE, gain_db=-3),
        ),
        tempo=tempo,
        beats_per_bar=meter,
        seed=5,
        **kw,
    )


def hit_rate(truth, est, tol=TOL) -> float:
    """Share of true events with an estimate within `tol`."""
    est = np.asarray(est)
    if len(est) == 0:
        return 0.0
    return float(np.mean([np.min(np.abs(est - t)) <= tol for t in truth]))


@pytest.fixture(scope="module")
def pop():
    """4/4 at 128 BPM, 6-bar sections: ~36 s, analysed once for several tests."""
    y, gt = synth_song(song(128.0), SR)
    return y, gt, analyze_audio(y, SR)


# --- beats, tempo, meter --------------------------------------------------------------------------


def test_beats_tempo_downbeats_4_4(pop):
    _, gt, mm = pop
    assert mm.beats_per_bar == 4
    assert abs(mm.tempo - gt.tempo) / gt.tempo < 0.02
    assert hit_rate(gt.beats[1:], mm.beats) >= 0.95
    assert mir_eval.beat.f_measure(np.array(gt.beats), np.array(mm.beats)) >= 0.95
    assert hit_rate(gt.downbeats[1:], mm.downbeats) >= 0.9  # the right beat is "one"
    # the song's first hit at 0 s has no onset to measure, yet it is beat 1 of bar 1
    assert gt.beats[0] == 0.0 and mm.beats[0] <= TOL and mm.downbeats[0] == mm.beats[0]
    assert mm.downbeats == [b for b in mm.beats if b in set(mm.downbeats)]  # downbeats are beats


def test_straight_eighths_are_simple_and_a_triplet_swing_is_compound(pop):
    assert pop[2].time_signature == "4/4" and pop[2].subdivision == 2
    y, gt = synth_song(song(96.0, swing=1.0), SR)
    mm = analyze_audio(y, SR)
    assert mm.beats_per_bar == 4 and mm.subdivision == 3 and mm.time_signature == "12/8"


def test_three_four_is_detected():
    y, gt = synth_song(song(132.0, meter=3, bars=8), SR)
    mm = analyze_audio(y, SR)
    assert mm.beats_per_bar == 3
    assert hit_rate(gt.beats[1:], mm.beats) >= 0.95
    assert hit_rate(gt.downbeats[1:], mm.downbeats) >= 0.9


def test_slow_song_is_not_tracked_at_double_tempo():
    y, gt = synth_song(song(72.0, bars=4), SR)  # eighth-note hats at 144/min tempt the tracker
    mm = analyze_audio(y, SR)
    assert abs(mm.tempo - 72.0) / 72.0 < 0.02
    assert hit_rate(gt.beats[1:], mm.beats) >= 0.95


def test_tempo_ramp_is_followed():
    y, gt = synth_song(song(90.0, tempo_end=120.0, bars=6), SR)  # +33% over ~30 s
    mm = analyze_audio(y, SR)
    assert hit_rate(gt.beats[1:], mm.beats) >= 0.9
    first, last = np.diff(mm.beats[:9]).mean(), np.diff(mm.beats[-9:]).mean()
    assert 60 / first == pytest.approx(92, rel=0.05) and 60 / last == pytest.approx(118, rel=0.05)


def test_beats_per_bar_override(pop):
    y, _, _ = pop
    mm = analyze_audio(y, SR, beats_per_bar=3)
    assert mm.beats_per_bar == 3
    idx = [mm.beats.index(d) for d in mm.downbeats]
    assert set(np.diff(idx)) <= {3}


@pytest.mark.parametrize("bad", [0, 1, 13, 2.5, "4"])
def test_invalid_beats_per_bar(bad):
    with pytest.raises(StoryreelError) as e:
        analyze_audio(np.zeros(SR * 6, np.float32), SR, beats_per_bar=bad)
    assert e.value.field == "beats_per_bar"


# --- sections and energy --------------------------------------------------------------------------


def test_sections_on_downbeats_with_repeat_labels(pop):
    _, gt, mm = pop
    truth = [s for _, s, _ in gt.sections[1:]]
    found = [s.start for s in mm.sections[1:]]
    assert hit_rate(truth, found, tol=0.5) == 1.0
    assert len(mm.sections) == 3
    assert [s.label.rstrip("'") for s in mm.sections] == ["A", "B", "A"]
    assert mm.sections[0].start == 0.0 and mm.sections[-1].end == mm.duration
    assert all(s.start in mm.downbeats for s in mm.sections[1:])
    chorus, verse = mm.sections[1], mm.sections[0]
    assert chorus.energy > verse.energy and chorus.energy_rank > verse.energy_rank
    assert chorus.name == "chorus"


def test_energy_and_onset_curves(pop):
    _, _, mm = pop
    n = int(np.ceil(mm.duration * 24.0))
    assert len(mm.energy) == len(mm.onsets) == n and mm.energy_fps == 24.0
    e, o = np.array(mm.energy), np.array(mm.onsets)
    assert e.min() >= 0 and e.max() <= 1 and o.min() >= 0 and o.max() <= 1
    assert e.max() > 0.9
    # onsets peak on beats: the onset value at beat frames beats the song's median
    at_beats = o[np.round(np.array(mm.beats) * 24.0).astype(int).clip(0, n - 1)]
    assert np.median(at_beats) > np.median(o)


def test_sample_per_frame_mean_and_max():
    feats = features.Features(SR, 256, SR * 2, np.zeros(173), np.zeros((3, 173)), np.zeros((12, 173)), np.zeros((13, 173)), np.zeros(173))
    curve = np.arange(173, dtype=float)
    frames = 10
    mean = energy.sample_per_frame(feats, curve, 5.0, 2.0, "mean")
    peak = energy.sample_per_frame(feats, curve, 5.0, 2.0, "max")
    assert len(mean) == len(peak) == frames
    assert np.all(np.diff(mean) > 0) and np.all(peak >= mean)


def test_three_four_at_150_is_not_read_at_one_and_a_half_times():
    """3/4 at 150 BPM: the old tracker read it at 225 and found no section boundary."""
    y, gt = synth_song(song(150.0, meter=3, bars=8), SR)
    mm = analyze_audio(y, SR)
    assert mm.beats_per_bar == 3 and abs(mm.tempo - 150.0) / 150.0 < 0.01
    assert hit_rate(gt.downbeats[1:], mm.downbeats) >= 0.95
    assert hit_rate([s for _, s, _ in gt.sections[1:]], [s.start for s in mm.sections[1:]], tol=0.5) == 1.0


def test_uneven_sections_are_all_found():
    """Sections of 4, 12, 6 and 12 bars: every boundary, each on its true downbeat."""
    parts = (PartSpec("intro", 4, ("Am7", "Fmaj7"), frozenset({"pad", "hats"}), gain_db=-9, brightness=0.2),
             PartSpec("verse", 12, ("Am7", "Fmaj7", "Cmaj7", "G"), VERSE, gain_db=-3),
             PartSpec("bridge", 6, ("Dm7", "Em7", "Fmaj7"), BRIDGE, gain_db=-5, brightness=0.3),
             PartSpec("chorus", 12, ("Fmaj7", "G", "Em7", "Am7"), CHORUS, brightness=0.9))
    y, gt = synth_song(SongSpec(parts, tempo=112.0, seed=13), SR)
    mm = analyze_audio(y, SR)
    truth = [s for _, s, _ in gt.sections[1:]]
    found = [s.start for s in mm.sections[1:]]
    assert hit_rate(truth, found, tol=TOL) == 1.0 and len(found) == len(truth)


@pytest.mark.parametrize("suffix,codec,options", [(".m4a", "aac", {"use_editlist": "0"}), (".mp3", "libmp3lame", {})])
def test_encoded_song_gives_the_wavs_beats_within_5_ms(tmp_path, suffix, codec, options):
    """An .m4a that does not state its encoder delay, and an .mp3: the same beats as the WAV."""
    import av
    import soundfile as sf

    y, _ = synth_song(song(120.0, bars=4), 44100)
    sf.write(tmp_path / "song.wav", y, 44100)
    with av.open(str(tmp_path / f"song{suffix}"), "w", options=options) as out:
        stream = out.add_stream(codec, rate=44100, layout="mono", bit_rate=192_000)
        for i in range(0, len(y), 1152):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(y[None, i : i + 1152], dtype=np.float32),
                                               format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 44100, i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    wav = analyze(tmp_path / "song.wav", use_cache=False)
    enc = analyze(tmp_path / f"song{suffix}", use_cache=False)
    assert len(wav.beats) == len(enc.beats) > 20
    assert np.max(np.abs(np.array(wav.beats) - np.array(enc.beats))) <= 0.005


# --- the pieces, on made-up inputs ----------------------------------------------------------------


def block_kernel(sizes: list[int], kinds: list[int], within: float = 0.9, across: float = 0.2) -> np.ndarray:
    """Bar kernel of sections with the given sizes; equal `kinds` mean repeats."""
    lab = np.repeat(kinds, sizes)
    return np.where(lab[:, None] == lab[None, :], within, across) + 0.1 * np.eye(len(lab))


def test_segment_and_label_blocks():
    k = block_kernel([8, 8, 8, 4], [0, 1, 0, 2])
    starts = sections.segment_bars(k, penalty=1.0)
    assert starts == [0, 8, 16, 24]
    assert sections.label_segments(k, starts) == ["A", "B", "A", "C"]


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(2, 12), min_size=1, max_size=6),
    penalty=st.floats(0.1, 5.0),
    seed=st.integers(0, 1000),
)
def test_segmentation_invariants(sizes, penalty, seed):
    """Whatever the kernel, segments tile the bars in order and respect the minimum length."""
    rng = np.random.default_rng(seed)
    k = block_kernel(sizes, list(rng.integers(0, 3, len(sizes)))) + rng.normal(0, 0.05, (sum(sizes),) * 2)
    k = (k + k.T) / 2
    starts = sections.segment_bars(k, penalty=penalty, min_bars=2)
    n = sum(sizes)
    assert starts[0] == 0 and starts == sorted(set(starts))
    assert all(b - a >= 2 for a, b in zip(starts, starts[1:] + [n])) or n < 2
    labels = sections.label_segments(k, starts)
    assert len(labels) == len(starts) and labels[0] == "A"


# --- files, cache, plot ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def song_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("song") / "song.wav"
    synthesize(path, spec=song(120.0, bars=4))
    return path


def test_analyze_caches_by_audio_hash(song_file, tmp_path, monkeypatch):
    calls = []
    real = analysis.compute_features
    monkeypatch.setattr(analysis, "compute_features", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = analyze(song_file, cache_dir=tmp_path)
    assert calls == [1] and len(list(tmp_path.glob("*.json"))) == 1
    second = analyze(song_file, cache_dir=tmp_path)
    assert calls == [1]  # served from the cache
    assert second == first and second.audio_hash == first.audio_hash != ""
    analyze(song_file, cache_dir=tmp_path, fps=30.0)  # other parameters: other entry
    assert calls == [1, 1] and len(list(tmp_path.glob("*.json"))) == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind


def test_damaged_cache_entry_is_recomputed(song_file, tmp_path):
    mm = analyze(song_file, cache_dir=tmp_path)
    (entry,) = tmp_path.glob("*.json")
    entry.write_text("{not json")
    again = analyze(song_file, cache_dir=tmp_path)
    assert again == mm and json.loads(entry.read_text())["music_map"]["tempo"] == mm.tempo


def test_music_map_json_roundtrip(song_file, tmp_path):
    mm = analyze(song_file, cache_dir=tmp_path)
    back = MusicMap.from_dict(json.loads(json.dumps(mm.to_dict())))
    assert back == mm and isinstance(back.sections[0], Section)


def test_progress_is_reported(song_file, tmp_path):
    seen = []
    analyze(song_file, cache_dir=tmp_path, use_cache=False, progress=lambda stage, f: seen.append((stage, f)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {"beats", "sections"} <= {s for s, _ in seen}


def test_analyze_missing_file(tmp_path):
    with pytest.raises(StoryreelError, match="not found"):
        analyze(tmp_path / "nope.wav", cache_dir=tmp_path)


def test_plot_writes_png(song_file, tmp_path):
    mm = analyze(song_file, cache_dir=tmp_path)
    out = plot(mm, song_file, tmp_path / "plots" / "song.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    assert [p.name for p in out.parent.iterdir()] == ["song.png"]


# --- the demo song --------------------------------------------------------------------------------


@pytest.mark.slow
def test_demo_song_analysis_matches_generator(tmp_path):
    """The real thing: the 4-minute demo soundtrack, analysed from its WAV file."""
    path = tmp_path / "demo.wav"
    gt = synthesize(path)
    mm = analyze(path, cache_dir=tmp_path / "cache")
    assert mm.beats_per_bar == 4 and abs(mm.tempo - 100.0) < 1.0
    assert hit_rate(gt.downbeats, mm.downbeats) >= 0.95
    assert len(mm.downbeats) == len(gt.downbeats) and mm.downbeats[0] <= TOL  # bar 1 starts at 0 s
    truth = [s for _, s, _ in gt.sections[1:]]
    assert hit_rate(truth, [s.start for s in mm.sections[1:]], tol=0.5) >= 0.8
    assert len(mm.sections) <= len(gt.sections) + 2  # no confetti of spurious sections
    names = [s.name for s in mm.sections]
    assert names[0] == "intro" and names[-1] == "outro" and "chorus" in names
