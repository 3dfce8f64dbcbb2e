"""The real-recording half of bench/music_accuracy.py: storyreel vs plain librosa on annotated recordings.

DIR holds audio/<genre>.<nnnnn>.wav and beats/<genre>.<nnnnn>.beats ("time beat-in-bar" per line), built
from the public GTZAN repositories as the README says. Files 0000[1-4] are the tuning split (the beat network
trained on them), 0000[6-9] the held-out split; 00000 and 00005 are never read.

Scores (mir_eval, as MIREX): beat F and downbeat F at +-70 ms (first 5 s ignored), tempo right when within
4 % of the annotation's median beat period, meter right when beats_per_bar equals the annotation's bar length.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import mir_eval
import numpy as np

from storyreel.music import analyze_audio
from storyreel.music.audio import load_audio

SPLITS = {"tune": re.compile(r"\.0000[1-4]$"), "val": re.compile(r"\.00004$"), "held-out": re.compile(r"\.0000[6-9]$"),
          "half1": re.compile(r"\.0000[12]$"), "half2": re.compile(r"\.0000[34]$")}  # halves: for cross-validation
CONFIDENT = 0.5  # below this, `storyreel analyze` warns and names the override


@dataclass
class RealScore:
    name: str
    beat_f: float
    downbeat_f: float
    tempo_ok: bool
    meter_ok: bool
    ref_tempo: float
    tempo: float
    meter: str
    conf: dict
    lib_beat_f: float
    lib_tempo_ok: bool
    lib_tempo: float


def tracks(folder: Path, split: str) -> list[tuple[str, Path, Path]]:
    out = []
    for wav in sorted((folder / "audio").glob("*.wav")):
        ann = folder / "beats" / (wav.stem + ".beats")
        if SPLITS[split].search(wav.stem) and ann.exists():
            out.append((wav.stem, wav, ann))
    return out


def score_track(name: str, wav: Path, ann: Path) -> RealScore:
    import librosa  # the baseline only

    ref = np.loadtxt(ann, ndmin=2)
    ref_beats, ref_down = ref[:, 0], ref[ref[:, 1] == 1, 0]
    ref_meter = int(ref[:, 1].max())
    ref_tempo = 60.0 / float(np.median(np.diff(ref_beats)))
    y, sr = load_audio(wav)
    mm = analyze_audio(y, sr)
    tempo_lib, frames = librosa.beat.beat_track(y=y, sr=sr)
    lib_beats = librosa.frames_to_time(frames, sr=sr)
    lib_tempo = float(np.atleast_1d(tempo_lib)[0])

    def f(ref_t, est_t):
        return float(mir_eval.beat.f_measure(mir_eval.beat.trim_beats(np.asarray(ref_t)),
                                             mir_eval.beat.trim_beats(np.asarray(est_t, dtype=float))))

    return RealScore(name, f(ref_beats, mm.beats), f(ref_down, mm.downbeats),
                     abs(mm.tempo - ref_tempo) <= 0.04 * ref_tempo, mm.beats_per_bar == ref_meter, ref_tempo,
                     mm.tempo, f"{mm.beats_per_bar}/{ref_meter}", mm.confidence, f(ref_beats, lib_beats),
                     abs(lib_tempo - ref_tempo) <= 0.04 * ref_tempo, lib_tempo)


def print_split(split: str, rows: list[RealScore]) -> None:
    head = (f"{'track':18s} {'beat F':>6s} {'dbeat F':>7s} {'tempo':>13s} {'ok':>3s} {'meter':>5s} "
            f"{'conf t/m/d':>14s} | {'lib F':>6s} {'lib tempo':>9s} {'ok':>3s}")
    print(f"\n== {split} split: {len(rows)} tracks ==")
    print(head)
    print("-" * len(head))
    for r in rows:
        c = r.conf
        conf = f"{c.get('tempo', 0):.2f}/{c.get('meter', 0):.2f}/{c.get('downbeat', 0):.2f}"
        print(f"{r.name:18s} {r.beat_f:6.3f} {r.downbeat_f:7.3f} {r.tempo:6.1f}/{r.ref_tempo:6.1f} "
              f"{'y' if r.tempo_ok else 'n':>3s} {r.meter:>5s} {conf:>14s} | {r.lib_beat_f:6.3f} {r.lib_tempo:9.1f} "
              f"{'y' if r.lib_tempo_ok else 'n':>3s}")
    print("-" * len(head))
    n = len(rows)
    mean = lambda k: float(np.mean([getattr(r, k) for r in rows]))  # noqa: E731
    print(f"{split}: storyreel beat F {mean('beat_f'):.3f}, downbeat F {mean('downbeat_f'):.3f}, "
          f"tempo within 4 % {sum(r.tempo_ok for r in rows)}/{n} ({100 * mean('tempo_ok'):.0f} %), "
          f"meter right {sum(r.meter_ok for r in rows)}/{n} ({100 * mean('meter_ok'):.0f} %)")
    print(f"{split}: plain librosa beat F {mean('lib_beat_f'):.3f}, tempo within 4 % "
          f"{sum(r.lib_tempo_ok for r in rows)}/{n} ({100 * mean('lib_tempo_ok'):.0f} %)")
    for key, ok in (("tempo", "tempo_ok"), ("meter", "meter_ok")):
        unsure = [r for r in rows if r.conf.get(key, 1.0) < CONFIDENT]
        wrong = [r for r in rows if not getattr(r, ok)]
        caught = sum(1 for r in wrong if r.conf.get(key, 1.0) < CONFIDENT)
        print(f"{split}: {key} flagged unsure on {len(unsure)}/{n}; {caught} of the {len(wrong)} wrong ones flagged")
    low = [r for r in rows if r.conf.get("downbeat", 1.0) < CONFIDENT]
    print(f"{split}: downbeat flagged unsure on {len(low)}/{n} (their mean downbeat F "
          f"{np.mean([r.downbeat_f for r in low]) if low else float('nan'):.3f}; the others' "
          f"{np.mean([r.downbeat_f for r in rows if r not in low]) if len(low) < n else float('nan'):.3f})")


def cli_wall_times(clips: list[Path]) -> None:
    """`storyreel analyze` wall time on 30-s clips in fresh processes: first call, later calls, a cache hit."""
    exe = Path(sys.executable).with_name("storyreel")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "XDG_CACHE_HOME": tmp, "STORYREEL_CACHE": tmp}
        times = []
        for clip in clips + clips[-1:]:
            t = time.perf_counter()
            subprocess.run([str(exe), "analyze", str(clip)], env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - t)
    print(f"\n`storyreel analyze` of a 30-s clip, wall time in a fresh process: first call {times[0]:.2f} s; "
          f"later calls on other clips {', '.join(f'{t:.2f}' for t in times[1:-1])} s (target < 3 s); "
          f"a cache hit {times[-1]:.2f} s (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"{os.cpu_count()} cores, shared)")


def run_real(folder: Path, splits: list[str], timing: bool = True) -> int:
    if not (folder / "audio").is_dir() or not (folder / "beats").is_dir():
        print(f"no dev set at {folder}: it needs audio/*.wav and beats/*.beats (the README says how to build it)",
              file=sys.stderr)
        return 2
    for split in splits:
        rows = [score_track(*t) for t in tracks(folder, split)]
        if not rows:
            print(f"no {split} tracks in {folder}", file=sys.stderr)
            return 2
        print_split(split, rows)
    if timing:
        cli_wall_times([w for _, w, _ in tracks(folder, splits[-1])][:3])
    return 0
