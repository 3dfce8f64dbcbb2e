"""A deterministic chillwave song synthesiser whose beats, bars and sections are known exactly.

Two uses: the demo's soundtrack (`synthesize`, the DEMO spec: 100 BPM, 4/4, 100 bars,
intro-verse-chorus-verse-chorus-bridge-chorus-outro), and test material with exact
ground truth for the music analysis (`synth_song` with other tempi, meters, a tempo
ramp, swing, quiet intros and fade-outs).

Everything is numpy: one-shot drums are added at event positions, tonal parts are
rendered note by note with vectorised oscillators, and the pad bus is rendered at
half rate (it is low-passed anyway) and upsampled, so four minutes take a few seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache

import numpy as np

# scipy.signal is imported inside the synthesis functions: it takes seconds to import, and a render
# that finds the song already synthesised only needs DEMO and fingerprint().
from .audio import write_wav

# --- the song description -------------------------------------------------------------------------

INSTRUMENTS = frozenset({"pad", "kick", "snare", "hats", "openhat", "bass", "lead", "arp"})


@dataclass(frozen=True)
class PartSpec:
    """One section: its length in bars, its chords (one per `chord_bars` bars, cycled) and who plays."""

    name: str
    bars: int
    chords: tuple[str, ...]
    instruments: frozenset[str]
    gain_db: float = 0.0  # section loudness
    brightness: float = 0.5  # 0..1: pad low-pass cutoff, dark to open
    chord_bars: int = 1


@dataclass(frozen=True)
class SongSpec:
    """A whole song: parts in order, tempo (optionally ramping), meter, feel and ending."""

    parts: tuple[PartSpec, ...]
    tempo: float = 100.0
    tempo_end: float | None = None  # linear ramp over the song's beats when set
    beats_per_bar: int = 4
    swing: float = 0.0  # 0 straight .. 1 triplet: delays the off-beat eighths
    kick_pattern: str = "four"  # "four": every beat; "backbeat": 1, 3 and the and-of-2
    fade_out_bars: int = 0  # fade the last bars to silence
    tail: float = 2.0  # seconds of ring-out after the last bar
    seed: int = 0


@dataclass
class GroundTruth:
    """What the generator played, exactly. Times in seconds."""

    tempo: float  # BPM: median over beats (the start tempo for a constant-tempo song)
    beats: list[float]
    downbeats: list[float]
    sections: list[tuple[str, float, float]]  # (name, start, end)
    duration: float
    beats_per_bar: int = 4

    def to_dict(self) -> dict:
        return asdict(self)


def _part(name, bars, chords, instruments, **kw) -> PartSpec:
    return PartSpec(name, bars, tuple(chords.split()), frozenset(instruments.split()), **kw)


# Ab major / F minor. Verse vi-IV-I-V, chorus I-vi-IV-V, bridge borrows Gb and the V of Fm.
VERSE = "Fm7 Dbmaj7 Abmaj7 Eb6"
CHORUS = "Abmaj7 Fm9 Dbmaj7 Ebadd9"
BRIDGE = "Bbm7 Gbmaj7 Dbmaj7 C7"

DEMO = SongSpec(
    parts=(
        _part("intro", 8, "Fm9 Dbmaj7", "pad kick hats", gain_db=-9.0, brightness=0.15, chord_bars=2),
        _part("verse", 16, VERSE, "pad kick snare hats bass", gain_db=-3.0, brightness=0.4),
        _part("chorus", 16, CHORUS, "pad kick snare hats openhat bass lead", gain_db=0.0, brightness=0.85),
        _part("verse", 12, VERSE, "pad kick snare hats bass", gain_db=-3.0, brightness=0.4),
        _part("chorus", 16, CHORUS, "pad kick snare hats openhat bass lead", gain_db=0.0, brightness=0.85),
        _part("bridge", 8, BRIDGE, "pad kick arp bass", gain_db=-5.0, brightness=0.25),
        _part("chorus", 16, CHORUS, "pad kick snare hats openhat bass lead", gain_db=0.0, brightness=0.85),
        _part("outro", 8, VERSE, "pad kick hats bass", gain_db=-4.0, brightness=0.3),
    ),
    tempo=100.0,
    beats_per_bar=4,
    fade_out_bars=8,
    seed=7,
)


# --- public API -----------------------------------------------------------------------------------


def ground_truth(spec: SongSpec = DEMO) -> GroundTruth:
    """The exact beats, downbeats and sections of `spec` (default: the demo song) without synthesising."""
    return _timeline(spec).truth


def synth_song(spec: SongSpec, sr: int = 22050) -> tuple[np.ndarray, GroundTruth]:
    """Render `spec` to mono float32 audio at `sr` (peak about -1 dBFS) and return it with its ground truth."""
    _check(spec)
    tl = _timeline(spec)
    rng = np.random.default_rng(spec.seed)
    n = int(round(tl.truth.duration * sr))
    r = _Renderer(spec, tl, sr, n, rng)
    return r.mix(), tl.truth


def fingerprint(spec: SongSpec = DEMO) -> str:
    """A short hash of everything that determines the song, stable across processes.

    (repr() is not: it lists frozensets in the order of Python's per-process
    string hashing, so a repr-keyed file was synthesised anew on every run.)
    """
    text = json.dumps(asdict(spec), sort_keys=True, default=sorted)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def synthesize(path: str | os.PathLike, sr: int = 22050, spec: SongSpec = DEMO) -> GroundTruth:
    """Write `spec` (default: the demo song) as a 16-bit WAV at `path` (atomically); return its ground truth."""
    y, truth = synth_song(spec, sr)
    write_wav(path, y, sr)
    return truth


# --- timeline: where every beat, bar and chord falls ------------------------------------------------


@dataclass
class _Bar:
    part: PartSpec
    index_in_part: int
    chord: str
    first_beat: int  # global beat index of the bar's first beat


@dataclass
class _Timeline:
    beat_times: np.ndarray  # (N + 1,): start of every beat and the end of the last one
    bars: list[_Bar]
    truth: GroundTruth
    part_spans: list[tuple[PartSpec, float, float]] = field(default_factory=list)

    def time(self, pos: np.ndarray | float) -> np.ndarray:
        """Seconds at fractional beat positions (linear within a beat, so ramps stay smooth)."""
        return np.interp(pos, np.arange(len(self.beat_times)), self.beat_times)


def _check(spec: SongSpec) -> None:
    if not spec.parts:
        raise ValueError("a song needs at least one part")
    for p in spec.parts:
        unknown = set(p.instruments) - INSTRUMENTS
        if unknown:
            raise ValueError(f"part {p.name!r}: unknown instruments {sorted(unknown)}")
        for c in p.chords:
            _chord_notes(c)  # raises on a bad symbol


def _timeline(spec: SongSpec) -> _Timeline:
    m = spec.beats_per_bar
    n_beats = sum(p.bars for p in spec.parts) * m
    if spec.tempo_end is None:
        bpm = np.full(n_beats, float(spec.tempo))
    else:
        bpm = np.linspace(spec.tempo, spec.tempo_end, n_beats)
    beat_times = np.concatenate([[0.0], np.cumsum(60.0 / bpm)])

    bars: list[_Bar] = []
    spans: list[tuple[PartSpec, float, float]] = []
    sections: list[tuple[str, float, float]] = []
    beat = 0
    for part in spec.parts:
        start = beat_times[beat]
        for i in range(part.bars):
            chord = part.chords[(i // part.chord_bars) % len(part.chords)]
            bars.append(_Bar(part, i, chord, beat))
            beat += m
        spans.append((part, float(start), float(beat_times[beat])))
        sections.append((part.name, round(float(start), 6), round(float(beat_times[beat]), 6)))

    beats = [round(float(t), 6) for t in beat_times[:-1]]
    truth = GroundTruth(
        tempo=float(np.median(bpm)),
        beats=beats,
        downbeats=beats[::m],
        sections=sections,
        duration=round(float(beat_times[-1]) + spec.tail, 6),
        beats_per_bar=m,
    )
    return _Timeline(beat_times, bars, truth, spans)


# --- harmony --------------------------------------------------------------------------------------

_QUALITY = {
    "": (0, 4, 7),
    "m": (0, 3, 7),
    "7": (0, 4, 7, 10),
    "m7": (0, 3, 7, 10),
    "maj7": (0, 4, 7, 11),
    "m9": (0, 3, 7, 10, 14),
    "add9": (0, 4, 7, 14),
    "6": (0, 4, 7, 9),
    "sus2": (0, 2, 7),
}
_PITCH = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


@lru_cache(maxsize=None)
def _chord_notes(symbol: str) -> tuple[int, tuple[int, ...]]:
    """'Dbmaj7' -> (root pitch class 1, intervals (0, 4, 7, 11))."""
    m = re.fullmatch(r"([A-G])([b#]?)(.*)", symbol)
    if not m or m.group(3) not in _QUALITY:
        raise ValueError(f"unknown chord symbol {symbol!r}")
    root = (_PITCH[m.group(1)] + {"": 0, "b": -1, "#": 1}[m.group(2)]) % 12
    return root, _QUALITY[m.group(3)]


def _pad_voicing(symbol: str) -> list[int]:
    """MIDI notes of a close voicing folded into F3..E5, so chord changes move voices little."""
    root, ivs = _chord_notes(symbol)
    notes = sorted({53 + ((root + iv - 53) % 12) + (12 if iv >= 12 else 0) for iv in ivs})
    return notes + [48 + (root - 48) % 12]  # plus the root an octave down for body


def _bass_note(symbol: str) -> int:
    root, _ = _chord_notes(symbol)
    return 31 + (root - 31) % 12  # G1..F#2


def _hz(midi: np.ndarray | float) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69.0) / 12.0)


# --- oscillators and one-shots --------------------------------------------------------------------


def _saw(freq: float, n: int, sr: int, phase0: float = 0.0, vib: np.ndarray | None = None) -> np.ndarray:
    """Band-limited (polyBLEP) sawtooth: bright like an analogue saw without the aliasing hiss."""
    f = freq * (1.0 + vib) if vib is not None else np.full(n, freq)
    dt = f / sr
    t = (phase0 + np.cumsum(dt) - dt[0]) % 1.0
    y = 2.0 * t - 1.0
    lo = t < dt
    x = t[lo] / dt[lo]
    y[lo] -= 2.0 * x - x * x - 1.0
    hi = t > 1.0 - dt
    x = (t[hi] - 1.0) / dt[hi]
    y[hi] -= x * x + 2.0 * x + 1.0
    return y


def _env(n: int, sr: int, attack: float, release: float, hold: int) -> np.ndarray:
    """Linear attack, sustain until sample `hold`, exponential-ish release after it."""
    t = np.arange(n) / sr
    a = np.minimum(1.0, t / max(attack, 1e-4))
    rel = np.clip((np.arange(n) - hold) / (release * sr), 0.0, 1.0)
    return a * (1.0 - rel) ** 2


def _kick(sr: int) -> np.ndarray:
    t = np.arange(int(0.45 * sr)) / sr
    freq = 48.0 + 110.0 * np.exp(-t / 0.035)  # pitch sweep gives the thump
    body = np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / 0.22)
    click = np.exp(-t / 0.004) * 0.4
    return (body + click) * np.minimum(1.0, t / 0.002)


def _snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    from scipy import signal
    t = np.arange(int(0.3 * sr)) / sr
    sos = signal.butter(2, [900, 6000], btype="bandpass", fs=sr, output="sos")
    noise = signal.sosfilt(sos, rng.standard_normal(len(t)))
    # three quick bursts: a clap layered on the snare
    clap = sum(np.exp(-np.maximum(t - d, 0) / 0.012) * (t >= d) for d in (0.0, 0.011, 0.022))
    tone = np.sin(2 * np.pi * 185 * t) * np.exp(-t / 0.05)
    return 0.5 * noise * (np.exp(-t / 0.11) + 0.6 * clap) + 0.35 * tone


def _hat(sr: int, rng: np.random.Generator, decay: float) -> np.ndarray:
    from scipy import signal
    t = np.arange(int(min(0.5, 6 * decay) * sr)) / sr
    sos = signal.butter(4, 6500, btype="highpass", fs=sr, output="sos")
    return signal.sosfilt(sos, rng.standard_normal(len(t))) * np.exp(-t / decay)


def _add(buf: np.ndarray, at: float, sr: int, sample: np.ndarray, gain: float) -> None:
    i = int(round(at * sr))
    if i >= len(buf):
        return
    k = min(len(sample), len(buf) - i)
    buf[i : i + k] += gain * sample[:k]


# --- rendering ------------------------------------------------------------------------------------

_KICKS = {"four": (0.0, 1.0, 2.0, 3.0), "backbeat": (0.0, 1.5, 2.0)}


class _Renderer:
    """Renders each bus of a song into its own buffer; `mix` sums them into the master."""

    def __init__(self, spec: SongSpec, tl: _Timeline, sr: int, n: int, rng: np.random.Generator):
        self.spec, self.tl, self.sr, self.n, self.rng = spec, tl, sr, n, rng
        self.m = spec.beats_per_bar

    # Where in a bar each drum hits, in beats (3/4 is a waltz: kick on one, snares on two and three).
    def _pattern(self, inst: str) -> list[tuple[float, float]]:
        m = self.m
        eighths = [i / 2 for i in range(2 * m)]
        if inst == "kick":
            beats = _KICKS[self.spec.kick_pattern] if m == 4 else (0.0,) if m == 3 else tuple(range(m))
            return [(b, 1.0 if b == 0 else 0.9) for b in beats if b < m]
        if inst == "snare":
            return [(1.0, 1.0), (3.0, 1.0)] if m == 4 else [(float(b), 0.55) for b in range(1, m)]
        if inst == "hats":
            return [(e, 0.55 if e % 1 else 0.8) for e in eighths]
        if inst == "openhat":
            return [(b + 0.5, 0.6) for b in range(m)]
        return []

    def _swung(self, pos: float) -> float:
        return pos + self.spec.swing / 6.0 if (pos % 1.0) == 0.5 else pos

    def _gain(self, part: PartSpec) -> float:
        return 10 ** (part.gain_db / 20)

    def drums(self) -> tuple[np.ndarray, np.ndarray]:
        """(dry drums, reverb send)."""
        sr, rng = self.sr, self.rng
        samples = {
            "kick": (_kick(sr), 0.7),
            "snare": (_snare(sr, rng), 0.4),
            "hats": (_hat(sr, rng, 0.025), 0.16),
            "openhat": (_hat(sr, rng, 0.14), 0.12),
        }
        dry = np.zeros(self.n)
        send = np.zeros(self.n)
        for bar in self.tl.bars:
            g = self._gain(bar.part)
            for inst, (sample, level) in samples.items():
                if inst not in bar.part.instruments:
                    continue
                for pos, vel in self._pattern(inst):
                    vel *= 1.0 + 0.08 * rng.standard_normal()  # a human-ish velocity spread
                    at = float(self.tl.time(bar.first_beat + self._swung(pos)))
                    _add(dry, at, sr, sample, g * level * vel)
                    if inst == "snare":
                        _add(send, at, sr, sample, g * level * vel)
        return dry, send

    def pump(self) -> np.ndarray:
        """Sidechain-style gain: ducks after every beat of a part with a kick, recovers in ~150 ms."""
        sr = self.sr
        t = np.arange(self.n) / sr
        beats = self.tl.beat_times[:-1]
        idx = np.clip(np.searchsorted(beats, t, side="right") - 1, 0, len(beats) - 1)
        since = t - beats[idx]
        depth = np.zeros(self.n)
        for part, start, end in self.tl.part_spans:
            if "kick" in part.instruments:
                depth[int(start * sr) : int(end * sr)] = 0.55
        return 1.0 - depth * np.exp(-since / 0.15) * (since >= 0)

    def pads(self) -> np.ndarray:
        """Detuned saw chords, low-passed per part, rendered at half rate and upsampled."""
        from scipy import signal
        sr2 = self.sr // 2
        n2 = self.n // 2 + 1
        out = np.zeros(n2)
        t_all = np.arange(n2) / sr2
        wow = 0.0025 * np.sin(2 * np.pi * 0.23 * t_all)  # slow tape wobble: the chillwave haze
        for part, start, end in self.tl.part_spans:
            if "pad" not in part.instruments:
                continue
            bus = np.zeros(n2)
            bars = [b for b in self.tl.bars if b.part is part]
            # merge consecutive bars with the same chord into one held chord
            spans: list[tuple[str, int, int]] = []
            for b in bars:
                if spans and spans[-1][0] == b.chord:
                    spans[-1] = (b.chord, spans[-1][1], b.first_beat + self.m)
                else:
                    spans.append((b.chord, b.first_beat, b.first_beat + self.m))
            for chord, b0, b1 in spans:
                t0, t1 = float(self.tl.time(b0)), float(self.tl.time(b1))
                i0 = int(t0 * sr2)
                hold = int((t1 - t0) * sr2)
                length = min(hold + int(0.6 * sr2), n2 - i0)
                if length <= 0:
                    continue
                env = _env(length, sr2, attack=0.25, release=0.6, hold=hold)
                vib = wow[i0 : i0 + length]
                for k, note in enumerate(_pad_voicing(chord)):
                    f = float(_hz(note))
                    for det in (-0.004, 0.004):  # two voices ~7 cents apart beat slowly against each other
                        bus[i0 : i0 + length] += env * _saw(f * (1 + det), length, sr2, phase0=0.31 * k, vib=vib)
            cutoff = 350.0 + 3200.0 * part.brightness**1.5
            sos = signal.butter(2, min(cutoff, 0.45 * sr2), fs=sr2, output="sos")
            out += signal.sosfilt(sos, bus) * self._gain(part)
        up = signal.resample_poly(out, 2, 1)[: self.n]
        return np.pad(up, (0, self.n - len(up))) * 0.1

    def bass(self) -> np.ndarray:
        """Round sine bass with a little drive: root on one, octave/fifth pickups."""
        sr = self.sr
        out = np.zeros(self.n)
        m = self.m
        # (start beat, length beats, semitones above root)
        pattern = [(0.0, 1.5, 0), (1.5, 0.5, 12), (2.0, 1.0, 0), (3.0, 1.0, 7)] if m == 4 else [(0.0, 2.0, 0), (2.0, 1.0, 7)]
        if m not in (3, 4):
            pattern = [(float(b), 1.0, 0) for b in range(m)]
        for bar in self.tl.bars:
            if "bass" not in bar.part.instruments:
                continue
            root = _bass_note(bar.chord)
            g = self._gain(bar.part)
            for pos, dur, semi in pattern:
                t0 = float(self.tl.time(bar.first_beat + self._swung(pos)))
                t1 = float(self.tl.time(bar.first_beat + pos + dur))
                i0 = int(t0 * sr)
                hold = int((t1 - t0) * sr * 0.9)
                length = min(hold + int(0.05 * sr), self.n - i0)
                if length <= 0:
                    continue
                t = np.arange(length) / sr
                f = float(_hz(root + semi))
                x = np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t)
                env = _env(length, sr, attack=0.006, release=0.05, hold=hold) * (0.7 + 0.3 * np.exp(-t / 0.2))
                out[i0 : i0 + length] += np.tanh(1.5 * x) * env * g * 0.32
        return out

    def lead(self) -> np.ndarray:
        """A soft saw lead with vibrato and a dotted-eighth echo, one motif per chord, repeated."""
        from scipy import signal
        sr = self.sr
        out = np.zeros(self.n)
        motif_rng = np.random.default_rng(self.spec.seed + 101)
        motifs: dict[str, list[tuple[float, float, int]]] = {}
        for bar in self.tl.bars:
            if "lead" not in bar.part.instruments:
                continue
            if bar.chord not in motifs:
                motifs[bar.chord] = self._motif(bar.chord, motif_rng)
            g = self._gain(bar.part)
            for pos, dur, note in motifs[bar.chord]:
                t0 = float(self.tl.time(bar.first_beat + self._swung(pos)))
                t1 = float(self.tl.time(bar.first_beat + pos + dur))
                i0 = int(t0 * sr)
                hold = int((t1 - t0) * sr * 0.95)
                length = min(hold + int(0.15 * sr), self.n - i0)
                if length <= 0:
                    continue
                t = np.arange(length) / sr
                vib = 0.004 * np.sin(2 * np.pi * 5.2 * t) * np.minimum(1.0, t / 0.3)
                x = 0.6 * _saw(float(_hz(note)), length, sr, vib=vib) + 0.8 * np.sin(2 * np.pi * float(_hz(note)) * t)
                out[i0 : i0 + length] += x * _env(length, sr, 0.02, 0.15, hold) * g * 0.28
        sos = signal.butter(2, 2800, fs=sr, output="sos")
        out = signal.sosfilt(sos, out)
        return _echo(out, sr, float(np.median(np.diff(self.tl.beat_times))) * 0.75)

    def _motif(self, chord: str, rng: np.random.Generator) -> list[tuple[float, float, int]]:
        root, ivs = _chord_notes(chord)
        tones = sorted({72 + (root + iv - 72) % 12 for iv in ivs})
        rhythm = [(0.0, 1.5), (1.5, 0.5), (2.0, 1.0), (3.0, 1.0)] if self.m == 4 else [(0.0, 1.0), (1.0, 1.0), (2.0, 1.0)]
        return [(pos, dur, int(rng.choice(tones))) for pos, dur in rhythm]

    def arp(self) -> np.ndarray:
        """Sixteenth-note plucked arpeggio over the chord, up and down."""
        from scipy import signal
        sr = self.sr
        out = np.zeros(self.n)
        for bar in self.tl.bars:
            if "arp" not in bar.part.instruments:
                continue
            notes = _pad_voicing(bar.chord)[:-1]
            notes = [x + 12 for x in notes]
            seq = notes + notes[-2:0:-1]
            g = self._gain(bar.part)
            for k in range(4 * self.m):
                pos = k / 4
                t0 = float(self.tl.time(bar.first_beat + pos))
                i0 = int(t0 * sr)
                length = min(int(0.35 * sr), self.n - i0)
                if length <= 0:
                    continue
                t = np.arange(length) / sr
                x = _saw(float(_hz(seq[k % len(seq)])), length, sr) * np.exp(-t / 0.12) * np.minimum(1, t / 0.003)
                out[i0 : i0 + length] += x * g * (0.2 if k % 4 else 0.26)
        sos = signal.butter(2, 2200, fs=sr, output="sos")
        return _echo(signal.sosfilt(sos, out), sr, float(np.median(np.diff(self.tl.beat_times))) * 0.75)

    def fade(self) -> np.ndarray:
        """Master gain: 1, then a squared ramp to silence over the last `fade_out_bars` bars."""
        g = np.ones(self.n)
        k = self.spec.fade_out_bars
        if k > 0:
            bars = self.tl.bars
            t0 = float(self.tl.time(bars[max(0, len(bars) - k)].first_beat))
            t1 = float(self.tl.beat_times[-1]) + 0.5
            t = np.arange(self.n) / self.sr
            x = np.clip((t - t0) / (t1 - t0), 0.0, 1.0)
            g = (1.0 - x) ** 2
        return g

    def mix(self) -> np.ndarray:
        sr = self.sr
        drums, snare_send = self.drums()
        pump = self.pump()
        pads = self.pads() * pump
        bass = self.bass() * (0.5 + 0.5 * pump)
        lead = self.lead()
        arp = self.arp()
        wet = _reverb(pads * 0.7 + lead + arp + 0.25 * snare_send, sr, self.rng)
        master = drums + pads + bass + lead + arp + 0.3 * wet
        master *= self.fade()
        master = np.tanh(1.1 * master) / np.tanh(1.1)  # gentle glue
        peak = float(np.max(np.abs(master))) or 1.0
        return (master * (0.89 / peak)).astype(np.float32)


def _echo(x: np.ndarray, sr: int, delay: float, feedback: float = 0.35, taps: int = 4) -> np.ndarray:
    d = int(delay * sr)
    y = x.copy()
    for k in range(1, taps + 1):
        y[k * d :] += x[: len(x) - k * d] * feedback**k
    return y


def _reverb(x: np.ndarray, sr: int, rng: np.random.Generator, seconds: float = 1.8) -> np.ndarray:
    """Convolution with decaying, darkened noise: a cheap, smooth hall."""
    from scipy import signal
    t = np.arange(int(seconds * sr)) / sr
    ir = rng.standard_normal(len(t)) * np.exp(-t / (seconds / 6.9))  # -60 dB at `seconds`
    ir = signal.sosfilt(signal.butter(1, 3500, fs=sr, output="sos"), ir)
    ir[: int(0.02 * sr)] = 0.0  # pre-delay keeps the dry attack clear
    ir /= np.sqrt(np.sum(ir**2))
    return signal.oaconvolve(x, ir)[: len(x)]


def demo_spec(**changes) -> SongSpec:
    """The demo spec with some fields changed (e.g. `tempo=90`)."""
    return replace(DEMO, **changes)
