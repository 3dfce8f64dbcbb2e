"""Training songs for the beat/downbeat TCN, each written as a .npz (y, beats, downbeats, weight).

Three sources, all with exact bar positions:
- the tuning half of the GTZAN dev set (files 0000[1-4] only: 0000[6-9] are held out, 00000/00005 unused;
  `--validate 00004` leaves those files out, to judge a recipe on real recordings the network never heard);
- storyreel's own song generator (music.synth), with random tempo, meter, feel and arrangement;
- random band arrangements as General MIDI (music.midi_songs) rendered by the `fluidsynth` program with a
  GM soundfont (Debian: `apt-get install fluidsynth fluid-soundfont-gm`; a training-time tool only), with
  random EQ and noise.

    python -m storyreel.music.beatnet_data --out DIR [--gtzan DIR [--validate 00004]] [--synth N] [--midi N]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from .beatnet import SR
from .midi_songs import midi_bytes, random_arrangement
from .songspec import PartSpec, SongSpec
from .synth import synth_song

TUNE_FILES = re.compile(r"\.0000[1-4]\.")  # the GTZAN files training and tuning may see
_ROOTS = ["C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"]
_QUAL = ["", "m7", "maj7", "m", "7"]
_SETS = ["pad kick snare hats bass", "pad kick hats", "pad bass arp", "pad kick snare hats openhat bass lead",
         "kick snare hats bass lead", "pad arp", "pad lead bass", "kick snare bass arp"]


SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


def gtzan_songs(folder: Path, out: Path, validate: str | None = None) -> int:
    """The tuning GTZAN files (audio/*.wav + beats/*.beats with 'time beat-number' lines), less those whose
    number is in `validate` (comma-separated, e.g. "00004" or "00003,00004": kept apart to judge a recipe)."""
    n = 0
    left_out = [f".{v.strip()}." for v in validate.split(",")] if validate else []
    for wav in sorted((folder / "audio").glob("*.wav")):
        if not TUNE_FILES.search(wav.name) or any(v in wav.name for v in left_out):
            continue
        ann = np.loadtxt(folder / "beats" / (wav.stem + ".beats"), ndmin=2)
        y, sr = sf.read(wav, dtype="float32", always_2d=True)
        assert sr == SR, wav
        beats = ann[:, 0]
        np.savez(out / f"gtzan_{wav.stem}.npz", y=y.mean(axis=1), beats=beats, downbeats=beats[ann[:, 1] == 1],
                 weight=4.0)
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


def rendered(arr_midi: bytes, soundfont: Path = SOUNDFONT) -> np.ndarray:
    """Mono float32 samples at SR of a MIDI file, rendered by the fluidsynth program."""
    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = Path(tmp) / "song.mid", Path(tmp) / "song.wav"
        mid.write_bytes(arr_midi)
        subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.5", "-r", str(SR), "-F", str(wav), str(soundfont), str(mid)],
                       check=True, capture_output=True)
        y, sr = sf.read(wav, dtype="float32", always_2d=True)
    assert sr == SR
    return y.mean(axis=1)


def coloured(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random recording chain: a spectral tilt and band limits (a different mic, room, mix), sometimes
    noise (tape hiss, crowd) at 8-30 dB SNR, and a level."""
    spec = np.fft.rfft(y)
    f = np.fft.rfftfreq(len(y), 1.0 / SR)
    octaves = np.log2(np.maximum(f, 20.0) / 1000.0)
    gain_db = rng.uniform(-4, 4) * octaves  # tilt, dB per octave around 1 kHz
    gain_db += np.where(f < rng.uniform(20, 150), -18.0, 0.0) + np.where(f > rng.uniform(4000, 11000), -15.0, 0.0)
    y = np.fft.irfft(spec * 10 ** (gain_db / 20), n=len(y)).astype(np.float32)
    if rng.random() < 0.35:
        noise = np.cumsum(rng.normal(size=len(y))).astype(np.float32) if rng.random() < 0.5 else rng.normal(size=len(y))
        noise = noise - np.convolve(noise, np.ones(64) / 64, mode="same")  # brownish/white, no DC drift
        snr = rng.uniform(8, 30)
        y = y + noise.astype(np.float32) * np.sqrt(np.mean(y**2) / (np.mean(noise**2) + 1e-12) / 10 ** (snr / 10))
    return (y / (np.abs(y).max() + 1e-9) * rng.uniform(0.3, 0.95)).astype(np.float32)


def midi_songs(n: int, out: Path, seed: int = 11) -> int:
    """n rendered random arrangements (music.midi_songs), 45 s at most each."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        arr = random_arrangement(rng)
        y = coloured(rendered(midi_bytes(arr)), rng)[: 45 * SR]
        np.savez(out / f"midi_{i:03d}.npz", y=y, beats=arr.beats, downbeats=arr.downbeats, weight=1.0,
                 style=arr.style, bpm=arr.bpm, beats_per_bar=arr.beats_per_bar)
        if i % 25 == 0:
            print(f"midi {i}: {arr.style} {arr.bpm:.0f} BPM {arr.beats_per_bar}/bar", flush=True)
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--gtzan", type=Path, help="the dev-set folder (audio/, beats/)")
    ap.add_argument("--validate", help="tuning file numbers to leave out of training (e.g. 00004, or 00003,00004)")
    ap.add_argument("--synth", type=int, default=0, help="number of generated songs")
    ap.add_argument("--midi", type=int, default=0, help="number of rendered MIDI arrangements")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    if a.gtzan:
        print("gtzan", gtzan_songs(a.gtzan, a.out, a.validate), flush=True)
    if a.synth:
        print("synth", synth_songs(a.synth, a.out), flush=True)
    if a.midi:
        print("midi", midi_songs(a.midi, a.out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
