"""Shared test helpers: exact synthetic MusicMaps on a beat grid (no audio needed)."""

from __future__ import annotations

import random
from typing import Optional, Sequence

from storyreel.music import MusicMap, Section

# Typical loudness of each kind of section, so energy ranks come out as in a real song.
SECTION_ENERGY = {"intro": 0.2, "verse": 0.5, "chorus": 0.9, "bridge": 0.6, "outro": 0.3}


def make_music_map(
    bpm: float = 100.0,
    bars: Optional[int] = None,
    beats_per_bar: int = 4,
    sections: Optional[Sequence[tuple]] = None,
    offset: float = 0.0,
    *,
    tail: float = 0.5,
    jitter: float = 0.0,
    seed: int = 0,
    named: bool = True,
    energy_fps: float = 24.0,
) -> MusicMap:
    """A MusicMap on an exact grid: `bars` bars (or the sum of `sections`) starting at `offset` seconds.

    sections: (name, bars) or (name, bars, energy) tuples. Equal names share a
    label (A, B, ...); energy defaults by name (SECTION_ENERGY) and sets the
    energy rank. named=False leaves Section.name empty, as audio analysis
    does. jitter: each beat moves by up to +-jitter seconds (seeded), for an
    irregular grid; the last beat is followed by `tail` seconds of song.
    """
    sections = list(sections or [("song", bars or 8)])
    total_bars = sum(s[1] for s in sections)
    if bars is not None and bars != total_bars:
        raise ValueError(f"bars={bars} but sections add up to {total_bars}")
    rng = random.Random(seed)
    period = 60.0 / bpm
    n_beats = total_bars * beats_per_bar
    beats = [offset + i * period + (rng.uniform(-jitter, jitter) if jitter and i else 0.0) for i in range(n_beats)]
    downbeats = beats[::beats_per_bar]
    duration = beats[-1] + period + tail
    labels: dict[str, str] = {}
    energies = {s[0]: (s[2] if len(s) > 2 else SECTION_ENERGY.get(s[0], 0.5)) for s in sections}
    ranks = {e: r for r, e in enumerate(sorted(set(energies.values())))}
    out, bar = [], 0
    for i, spec in enumerate(sections):
        name, n = spec[0], spec[1]
        label = labels.setdefault(name, chr(ord("A") + len(labels)))
        start = downbeats[bar]
        end = downbeats[bar + n] if bar + n < len(downbeats) else duration
        out.append(Section(start=start, end=end, label=label, energy=energies[name],
                           energy_rank=ranks[energies[name]], name=name if named else ""))
        bar += n
    frames = int(duration * energy_fps)
    energy = []
    for f in range(frames):
        t = f / energy_fps
        current = next((s for s in reversed(out) if s.start <= t), out[0])
        energy.append(current.energy)
    return MusicMap(duration=duration, tempo=bpm, beats=beats, downbeats=downbeats, beats_per_bar=beats_per_bar,
                    sections=out, energy_fps=energy_fps, energy=energy, onsets=[0.0] * frames)


DEMO_SECTIONS = [("intro", 8), ("verse", 16), ("chorus", 16), ("verse", 16), ("chorus", 16), ("bridge", 12),
                 ("chorus", 16), ("outro", 8)]
