"""A human-readable summary of a MusicMap for `storyreel analyze`."""

from __future__ import annotations

from rich.table import Table

from .music import MusicMap


def _mmss(t: float) -> str:
    return f"{int(t // 60)}:{t % 60:04.1f}"


def summary_table(mm: MusicMap) -> Table:
    """Tempo, meter, counts, then one row per section with its bars and energy."""
    t = Table(title=f"{mm.source or 'song'}: {mm.tempo:.1f} BPM, {mm.beats_per_bar}/4, {_mmss(mm.duration)}")
    for col in ("section", "start", "end", "bars", "energy", "rank"):
        t.add_column(col, justify="right" if col != "section" else "left")
    downbeats = mm.downbeats
    for s in mm.sections:
        bars = sum(1 for d in downbeats if s.start - 1e-6 <= d < s.end - 1e-6)
        label = f"{s.label} ({s.name})" if s.name else s.label
        t.add_row(label, _mmss(s.start), _mmss(s.end), str(bars), f"{s.energy:.2f}", str(s.energy_rank))
    t.caption = f"{len(mm.beats)} beats, {len(downbeats)} bars, {len(mm.sections)} sections"
    return t
