"""Music analysis accuracy on synthesised songs with exact ground truth, plus 4-minute wall time.

Builds ~10 songs with demo_song.synth_song (70-170 BPM, 3/4 and 4/4, a tempo ramp,
swing, a backbeat kick, quiet intros, fade-outs, sections with different instruments
and chords), analyses each with storyreel.music.analyze_audio and scores it with
mir_eval the way the MIREX tasks do:

  beat F      mir_eval.beat.f_measure (+-70 ms), beats before 5 s ignored (mir_eval's trim_beats)
  downbeat F  the same on downbeats
  tempo err   |analysed - true| / true of the median tempo, in %
  bound F     mir_eval.segment.detection at +-0.5 s, song start/end excluded (trim=True)

Targets: beat F >= 0.95, downbeat F >= 0.85, tempo within 2 %, boundary F >= 0.8.

Run:  OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 .venv/bin/python bench/music_accuracy.py
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import mir_eval
import numpy as np

from storyreel.demo_song import DEMO, GroundTruth, PartSpec, SongSpec, synth_song
from storyreel.music import MusicMap, analyze_audio

SR = 22050
TARGETS = {"beat_f": 0.95, "downbeat_f": 0.85, "tempo_err": 2.0, "bound_f": 0.8}


def part(name: str, bars: int, chords: str, instruments: str, **kw) -> PartSpec:
    return PartSpec(name, bars, tuple(chords.split()), frozenset(instruments.split()), **kw)


FULL = "pad kick snare hats bass"
BIG = "pad kick snare hats openhat bass lead"


def test_set() -> dict[str, SongSpec]:
    """The songs, 30-90 s each; names say what each one stresses."""
    return {
        "pop-120": SongSpec(
            (
                part("intro", 4, "Am7 Fmaj7", "pad kick hats", gain_db=-8, brightness=0.2, chord_bars=2),
                part("verse", 8, "Am7 Fmaj7 Cmaj7 G", FULL, gain_db=-3),
                part("chorus", 8, "Fmaj7 G Em7 Am7", BIG, brightness=0.9),
                part("verse", 8, "Am7 Fmaj7 Cmaj7 G", FULL, gain_db=-3),
            ),
            tempo=120, seed=1,
        ),
        "slow-70": SongSpec(
            (
                part("verse", 4, "Dm7 Bbmaj7 F C", FULL, gain_db=-3),
                part("chorus", 4, "Gm7 Bbmaj7 Dm7 C", BIG, brightness=0.9),
                part("verse", 4, "Dm7 Bbmaj7 F C", FULL, gain_db=-3),
                part("outro", 4, "Dm7 Bbmaj7", "pad kick hats", brightness=0.2),
            ),
            tempo=70, fade_out_bars=4, seed=2,
        ),
        "fast-170": SongSpec(
            (
                part("verse", 8, "Em7 Cmaj7 G D", FULL, gain_db=-3),
                part("chorus", 8, "Cmaj7 D Bm7 Em7", BIG, brightness=0.9),
                part("bridge", 8, "Am7 Fmaj7 Cmaj7 B7", "pad kick arp bass", gain_db=-5, brightness=0.3),
                part("chorus", 8, "Cmaj7 D Bm7 Em7", BIG, brightness=0.9),
            ),
            tempo=170, seed=3,
        ),
        "waltz-132": SongSpec(
            (
                part("verse", 8, "F Dm7 Bb C", FULL, gain_db=-3),
                part("chorus", 8, "Bb C Am7 Dm7", BIG, brightness=0.9),
                part("verse", 8, "F Dm7 Bb C", FULL, gain_db=-3),
                part("chorus", 8, "Bb C Am7 Dm7", BIG, brightness=0.9),
            ),
            tempo=132, beats_per_bar=3, seed=4,
        ),
        "waltz-90": SongSpec(
            (
                part("intro", 4, "Gmaj7 Em7", "pad hats", gain_db=-10, brightness=0.2),
                part("verse", 8, "Gmaj7 Em7 Cmaj7 D", FULL, gain_db=-3),
                part("chorus", 8, "Cmaj7 D Bm7 Em7", BIG, brightness=0.9),
                part("outro", 4, "Gmaj7 Em7", "pad kick hats", brightness=0.3),
            ),
            tempo=90, beats_per_bar=3, fade_out_bars=4, seed=5,
        ),
        "ramp-90-125": SongSpec(
            (
                part("verse", 8, "Cm7 Abmaj7 Ebmaj7 Bb", FULL, gain_db=-3),
                part("chorus", 8, "Abmaj7 Bb Gm7 Cm7", BIG, brightness=0.9),
                part("bridge", 8, "Fm7 Dbmaj7 Abmaj7 G7", "pad kick arp bass", gain_db=-5, brightness=0.3),
                part("chorus", 8, "Abmaj7 Bb Gm7 Cm7", BIG, brightness=0.9),
            ),
            tempo=90, tempo_end=125, seed=6,
        ),
        "swing-110": SongSpec(
            (
                part("verse", 8, "Bbmaj7 Gm7 Cm7 F", FULL, gain_db=-3),
                part("chorus", 8, "Ebmaj7 F Dm7 Gm7", BIG, brightness=0.9),
                part("verse", 8, "Bbmaj7 Gm7 Cm7 F", FULL, gain_db=-3),
                part("chorus", 8, "Ebmaj7 F Dm7 Gm7", BIG, brightness=0.9),
            ),
            tempo=110, swing=0.6, seed=8,
        ),
        "backbeat-95-quiet-intro-fade": SongSpec(
            (
                part("intro", 8, "Fm9 Dbmaj7", "pad hats", gain_db=-14, brightness=0.15, chord_bars=2),
                part("verse", 8, "Fm7 Dbmaj7 Abmaj7 Eb6", FULL, gain_db=-3),
                part("chorus", 8, "Abmaj7 Fm9 Dbmaj7 Ebadd9", BIG, brightness=0.9),
                part("outro", 8, "Fm7 Dbmaj7 Abmaj7 Eb6", "pad kick hats bass", gain_db=-4, brightness=0.3),
            ),
            tempo=95, kick_pattern="backbeat", fade_out_bars=8, seed=9,
        ),
        "half-time-145": SongSpec(
            (
                part("verse", 8, "Dm7 Bbmaj7 Gm7 A7", FULL, gain_db=-3),
                part("chorus", 16, "Bbmaj7 C Am7 Dm7", BIG, brightness=0.9),
                part("bridge", 8, "Ebmaj7 Cm7 Gm7 A7", "pad kick arp bass", gain_db=-5, brightness=0.3),
            ),
            tempo=145, kick_pattern="backbeat", seed=10,
        ),
        "chords-every-2-bars-80": SongSpec(
            (
                part("verse", 8, "Ebmaj7 Cm7", FULL, gain_db=-3, chord_bars=2),
                part("chorus", 8, "Abmaj7 Bb Gm7 Cm7", BIG, brightness=0.9, chord_bars=2),
                part("verse", 8, "Ebmaj7 Cm7", FULL, gain_db=-3, chord_bars=2),
            ),
            tempo=80, seed=11,
        ),
    }


@dataclass
class Score:
    name: str
    seconds: float
    meter: str
    beat_f: float
    downbeat_f: float
    tempo_err: float
    bound_f: float
    analysis_s: float


def score(name: str, truth: GroundTruth, mm: MusicMap, analysis_s: float) -> Score:
    """mir_eval scores of one analysis against its ground truth."""
    ref_b = mir_eval.beat.trim_beats(np.array(truth.beats))
    est_b = mir_eval.beat.trim_beats(np.array(mm.beats))
    ref_d = mir_eval.beat.trim_beats(np.array(truth.downbeats))
    est_d = mir_eval.beat.trim_beats(np.array(mm.downbeats))
    ref_iv, est_iv = section_intervals(truth), np.array([[s.start, s.end] for s in mm.sections])
    _, _, bound_f = mir_eval.segment.detection(ref_iv, est_iv, window=0.5, trim=True)
    return Score(
        name=name,
        seconds=truth.duration,
        meter=f"{mm.beats_per_bar}/{truth.beats_per_bar}",
        beat_f=mir_eval.beat.f_measure(ref_b, est_b),
        downbeat_f=mir_eval.beat.f_measure(ref_d, est_d),
        tempo_err=100 * abs(mm.tempo - truth.tempo) / truth.tempo,
        bound_f=bound_f,
        analysis_s=analysis_s,
    )


def section_intervals(truth: GroundTruth) -> np.ndarray:
    """Reference intervals tiling [0, duration] (the ring-out tail joins the last section)."""
    iv = np.array([[s, e] for _, s, e in truth.sections], dtype=float)
    iv[0, 0], iv[-1, 1] = 0.0, truth.duration
    return iv


def print_table(rows: list[Score]) -> None:
    head = f"{'song':32s} {'len s':>6s} {'meter':>6s} {'beat F':>7s} {'dbeat F':>7s} {'tempo %':>7s} {'bound F':>7s} {'time s':>6s}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r.name:32s} {r.seconds:6.1f} {r.meter:>6s} {r.beat_f:7.3f} {r.downbeat_f:7.3f} "
            f"{r.tempo_err:7.2f} {r.bound_f:7.3f} {r.analysis_s:6.2f}"
        )
    print("-" * len(head))
    mean = {k: float(np.mean([getattr(r, k) for r in rows])) for k in ("beat_f", "downbeat_f", "tempo_err", "bound_f")}
    print(
        f"{'mean':32s} {'':6s} {'':6s} {mean['beat_f']:7.3f} {mean['downbeat_f']:7.3f} "
        f"{mean['tempo_err']:7.2f} {mean['bound_f']:7.3f}"
    )
    ok = lambda k, v: v <= TARGETS[k] if k == "tempo_err" else v >= TARGETS[k]  # noqa: E731
    worst_tempo = max(r.tempo_err for r in rows)
    print(
        "targets: "
        + ", ".join(
            f"{k} {'>=' if k != 'tempo_err' else '<='} {t} ({'met' if ok(k, mean[k]) else 'NOT met'})"
            for k, t in TARGETS.items()
        )
        + f"; worst tempo error {worst_tempo:.2f} %"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="substring of song names to run")
    ap.add_argument("--no-demo", action="store_true", help="skip the 4-minute demo song timing")
    args = ap.parse_args(argv)

    rows = []
    for name, spec in test_set().items():
        if args.only and args.only not in name:
            continue
        y, truth = synth_song(spec, SR)
        t = time.perf_counter()
        mm = analyze_audio(y, SR)
        rows.append(score(name, truth, mm, time.perf_counter() - t))
    if not args.no_demo and not args.only:
        y, truth = synth_song(DEMO, SR)
        t = time.perf_counter()
        mm = analyze_audio(y, SR)
        rows.append(score("demo-song-4min", truth, mm, time.perf_counter() - t))
    print_table(rows)
    demo = [r for r in rows if r.name == "demo-song-4min"]
    if demo:
        print(f"4-minute song ({demo[0].seconds:.0f} s) analysed in {demo[0].analysis_s:.1f} s wall time (target < 30 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
