"""Training songs for the beat/downbeat TCN, each written as a .npz (y, beats, downbeats, weight).

Two sources, both with exact bar positions:
- the tuning half of the GTZAN dev set (files 0000[1-4] only: 0000[6-9] are held out, 00000/00005 unused);
- storyreel's own song generator (music.synth), with random tempo, meter, feel and arrangement.
(Rendered MIDI with exact bars, e.g. the music21 corpus through fluidsynth, would be a third; not done yet.)

    python -m storyreel.music.beatnet_data --out DIR [--gtzan DIR] [--synth N]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import soundfile as sf

from .beatnet import SR
from .songspec import PartSpec, SongSpec
from .synth import synth_song

TUNE_FILES = re.compile(r"\.0000[1-4]\.")  # the GTZAN files training and tuning may see
_ROOTS = ["C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"]
_QUAL = ["", "m7", "maj7", "m", "7"]
_SETS = ["pad kick snare hats bass", "pad kick hats", "pad bass arp", "pad kick snare hats openhat bass lead",
         "kick snare hats bass lead", "pad arp", "pad lead bass", "kick snare bass arp"]


def gtzan_songs(folder: Path, out: Path) -> int:
    """The tuning GTZAN files (audio/*.wav + beats/*.beats with 'time beat-number' lines)."""
    n = 0
    for wav in sorted((folder / "audio").glob("*.wav")):
        if not TUNE_FILES.search(wav.name):
            continue
        ann = np.loadtxt(folder / "beats" / (wav.stem + ".beats"), ndmin=2)
        y, sr = sf.read(wav, dtype="float32", always_2d=True)
        assert sr == SR, wav
        beats = ann[:, 0]
        np.savez(out / f"gtzan_{wav.stem}.npz", y=y.mean(axis=1), beats=beats, downbeats=beats[ann[:, 1] == 1],
                 weight=3.0)
        n += 1
    return n


def random_spec(rng: np.random.Generator) -> SongSpec:
    """A random arrangement: 3/4 or 4/4 (some 2/4), 60-185 BPM, uneven sections, some swing and ramps."""
    meter = int(rng.choice([4, 4, 4, 3, 3, 2]))
    tempo = float(np.exp(rng.uniform(np.log(60), np.log(185))))
    parts = []
    for k in range(int(rng.integers(2, 5))):
        chords = tuple(_ROOTS[int(rng.integers(12))] + str(rng.choice(_QUAL)) for _ in range(4))
        inst = frozenset(str(rng.choice(_SETS)).split())
        parts.append(PartSpec(f"p{k}", int(rng.choice([4, 6, 8, 12])), chords, inst,
                              gain_db=float(rng.uniform(-9, 0)), brightness=float(rng.uniform(0.1, 0.9)),
                              chord_bars=int(rng.choice([1, 1, 2]))))
    return SongSpec(tuple(parts), tempo=tempo, tempo_end=tempo * float(rng.uniform(0.85, 1.15)) if rng.random() < 0.2 else None,
                    beats_per_bar=meter, swing=float(rng.choice([0.0, 0.0, 0.3, 0.6])),
                    kick_pattern=str(rng.choice(["four", "backbeat"])), tail=1.0, seed=int(rng.integers(1 << 30)))


def synth_songs(n: int, out: Path, seed: int = 7) -> int:
    rng = np.random.default_rng(seed)  # the bench's held-out random songs use seed 1234
    for i in range(n):
        y, truth = synth_song(random_spec(rng), SR)
        keep = min(len(y), 45 * SR)
        np.savez(out / f"synth_{i:03d}.npz", y=y[:keep].astype(np.float32), beats=np.array(truth.beats),
                 downbeats=np.array(truth.downbeats), weight=1.0)
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--gtzan", type=Path, help="the dev-set folder (audio/, beats/)")
    ap.add_argument("--synth", type=int, default=0, help="number of generated songs")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    if a.gtzan:
        print("gtzan", gtzan_songs(a.gtzan, a.out), flush=True)
    if a.synth:
        print("synth", synth_songs(a.synth, a.out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
