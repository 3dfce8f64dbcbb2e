"""A user's corrections of the analysis: tempo, first downbeat and section starts win over what was detected.

The storyboard may say `tempo:` (BPM), `downbeat_offset:` (seconds of the first downbeat) and
`section_starts:` (seconds); `beats_per_bar:` is passed to the analysis itself, which decodes at that meter.
`apply_overrides` returns a new MusicMap on which the planner, the edit and the timeline exports all agree:
- a tempo rebuilds the beat grid at that tempo, phased on the first downbeat given, else on the detected bars;
- a first downbeat re-phases the bars (every `beats_per_bar` beats from the beat nearest to it);
- section boundaries (given or detected) snap to the nearest corrected bar.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .musicmap import MusicMap, Section


@dataclass(frozen=True)
class MusicOverrides:
    """What the user said about the song; None = use the analysis."""

    tempo: float | None = None
    downbeat_offset: float | None = None
    section_starts: tuple[float, ...] | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.tempo, self.downbeat_offset, self.section_starts))


def apply_overrides(mm: MusicMap, ov: MusicOverrides | None) -> MusicMap:
    """`mm` with the user's corrections applied (mm itself is not changed)."""
    if not ov:
        return mm
    beats = np.asarray(mm.beats, dtype=np.float64)
    m = max(1, int(mm.beats_per_bar))
    if ov.tempo is not None:
        anchors = np.asarray(mm.downbeats if mm.downbeats else mm.beats, dtype=np.float64)
        beats = _grid(mm.duration, 60.0 / ov.tempo, ov.downbeat_offset, anchors)
    if ov.downbeat_offset is not None or ov.tempo is not None:
        anchor = ov.downbeat_offset if ov.downbeat_offset is not None else _first_downbeat(mm, beats)
        first = int(np.argmin(np.abs(beats - anchor))) if len(beats) else 0
        downbeats = beats[first % m :: m]
    else:
        downbeats = np.asarray(mm.downbeats, dtype=np.float64)
    starts = list(ov.section_starts) if ov.section_starts is not None else [s.start for s in mm.sections]
    sections = _snapped_sections(mm, starts, downbeats)
    tempo = ov.tempo if ov.tempo is not None else mm.tempo
    return replace(mm, tempo=round(float(tempo), 3), beats=_list(beats), downbeats=_list(downbeats),
                   sections=sections)


def _grid(duration: float, period: float, anchor: float | None, detected: np.ndarray) -> np.ndarray:
    """Beats every `period` s over the song, through `anchor`, or phased on the detected downbeats (strong
    beats: when the tempo read was double, they say which half of the beats is the real one)."""
    if anchor is None:
        if len(detected):
            phases = np.mod(detected, period) / period * 2 * np.pi  # circular mean of the beats' phases
            anchor = float(np.angle(np.mean(np.exp(1j * phases))) % (2 * np.pi) / (2 * np.pi) * period)
        else:
            anchor = 0.0
    first = anchor - np.floor(anchor / period) * period
    return np.arange(first, duration, period)


def _first_downbeat(mm: MusicMap, beats: np.ndarray) -> float:
    return float(mm.downbeats[0]) if mm.downbeats else float(beats[0]) if len(beats) else 0.0


def _snapped_sections(mm: MusicMap, starts: list[float], downbeats: np.ndarray) -> list[Section]:
    """Sections starting at `starts` snapped to bars (the first always at 0), labels/energy from the detected
    section each new one overlaps most."""
    snapped = sorted({0.0, *(_snap(t, downbeats) for t in starts if 0.0 < t < mm.duration)})
    snapped = [t for t in snapped if t == 0.0 or t < mm.duration]
    ends = snapped[1:] + [mm.duration]
    out = []
    for a, b in zip(snapped, ends):
        if b - a <= 1e-6:
            continue
        like = max(mm.sections, key=lambda s: min(b, s.end) - max(a, s.start)) if mm.sections else None
        out.append(Section(round(a, 6), round(b, 6), like.label if like else "A", like.energy if like else 0.5,
                           like.energy_rank if like else 0, like.name if like else ""))
    return out


def _snap(t: float, downbeats: np.ndarray) -> float:
    return float(downbeats[np.argmin(np.abs(downbeats - t))]) if len(downbeats) else float(t)


def _list(x: np.ndarray) -> list[float]:
    return [round(float(v), 6) for v in x]
