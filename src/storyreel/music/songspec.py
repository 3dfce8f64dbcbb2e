"""A song as a description: parts, chords, tempo, meter and feel, and the exact timeline they give.

`timeline(spec)` says where every beat, bar and chord falls and what the
ground truth of the analysis is (beats, downbeats, sections), without
synthesising anything; `music.synth` renders the description to audio.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np

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


# --- timeline: where every beat, bar and chord falls ------------------------------------------------


@dataclass
class Bar:
    part: PartSpec
    index_in_part: int
    chord: str
    first_beat: int  # global beat index of the bar's first beat


@dataclass
class Timeline:
    beat_times: np.ndarray  # (N + 1,): start of every beat and the end of the last one
    bars: list[Bar]
    truth: GroundTruth
    part_spans: list[tuple[PartSpec, float, float]] = field(default_factory=list)

    def time(self, pos: np.ndarray | float) -> np.ndarray:
        """Seconds at fractional beat positions (linear within a beat, so ramps stay smooth)."""
        return np.interp(pos, np.arange(len(self.beat_times)), self.beat_times)


def check_spec(spec: SongSpec) -> None:
    if not spec.parts:
        raise ValueError("a song needs at least one part")
    for p in spec.parts:
        unknown = set(p.instruments) - INSTRUMENTS
        if unknown:
            raise ValueError(f"part {p.name!r}: unknown instruments {sorted(unknown)}")
        for c in p.chords:
            chord_notes(c)  # raises on a bad symbol


def timeline(spec: SongSpec) -> Timeline:
    m = spec.beats_per_bar
    n_beats = sum(p.bars for p in spec.parts) * m
    if spec.tempo_end is None:
        bpm = np.full(n_beats, float(spec.tempo))
    else:
        bpm = np.linspace(spec.tempo, spec.tempo_end, n_beats)
    beat_times = np.concatenate([[0.0], np.cumsum(60.0 / bpm)])

    bars: list[Bar] = []
    spans: list[tuple[PartSpec, float, float]] = []
    sections: list[tuple[str, float, float]] = []
    beat = 0
    for part in spec.parts:
        start = beat_times[beat]
        for i in range(part.bars):
            chord = part.chords[(i // part.chord_bars) % len(part.chords)]
            bars.append(Bar(part, i, chord, beat))
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
    return Timeline(beat_times, bars, truth, spans)


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
def chord_notes(symbol: str) -> tuple[int, tuple[int, ...]]:
    """'Dbmaj7' -> (root pitch class 1, intervals (0, 4, 7, 11))."""
    m = re.fullmatch(r"([A-G])([b#]?)(.*)", symbol)
    if not m or m.group(3) not in _QUALITY:
        raise ValueError(f"unknown chord symbol {symbol!r}")
    root = (_PITCH[m.group(1)] + {"": 0, "b": -1, "#": 1}[m.group(2)]) % 12
    return root, _QUALITY[m.group(3)]


def pad_voicing(symbol: str) -> list[int]:
    """MIDI notes of a close voicing folded into F3..E5, so chord changes move voices little."""
    root, ivs = chord_notes(symbol)
    notes = sorted({53 + ((root + iv - 53) % 12) + (12 if iv >= 12 else 0) for iv in ivs})
    return notes + [48 + (root - 48) % 12]  # plus the root an octave down for body


def bass_note(symbol: str) -> int:
    root, _ = chord_notes(symbol)
    return 31 + (root - 31) % 12  # G1..F#2


def hz(midi: np.ndarray | float) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69.0) / 12.0)
