"""Dragging the cut between two shots: the nearest beat (or downbeat), as storyboard `length:` edits.

The planner stays the only place shots are timed: a drag becomes lengths in
beats for the shots of the same list (the last one of the list still fills
what is left), and the edit is planned like any other.
"""

from __future__ import annotations

import bisect

from ..errors import StoryreelError
from ..music import MusicMap
from ..plan import ShotPlan
from ..plan.grid import Grid


def positions(plan: ShotPlan, grid: Grid) -> list[int]:
    """Each shot's start as a grid position (the first shot counts from the first downbeat), then the end."""
    where = {b: p for p, b in enumerate(grid.source_index)}
    return [grid.start] + [where[s.start_beat] for s in plan.shots[1:]] + [grid.end]


def snap(grid: Grid, t: float, lo: int, hi: int, to: str = "beat") -> int:
    """The grid position nearest `t` strictly between positions lo and hi (downbeats only if asked)."""
    bars = set(grid.bars)
    choices = [p for p in range(lo + 1, hi) if to != "downbeat" or p in bars]
    if not choices:
        raise StoryreelError(f"no {to} between the two shots' other ends to move the cut to", field="boundary")
    times = [grid.time(p) for p in choices]
    k = bisect.bisect_left(times, t)
    near = [c for c in (k - 1, k) if 0 <= c < len(choices)]
    return choices[min(near, key=lambda c: abs(times[c] - t))]


def boundary_edits(plan: ShotPlan, music: MusicMap, left: int, t: float, to: str = "beat",
                   ) -> tuple[list[tuple[list, str | None]], int]:
    """The `length` edits that move the cut after shot `left` (0-based) to the beat nearest t: (edits, the index into music.beats it lands on)."""
    if not 0 <= left < len(plan.shots) - 1:
        raise StoryreelError(f"there is no cut after shot {left + 1}", field="boundary")
    a, b = plan.shots[left], plan.shots[left + 1]
    if not a.source or a.source[:-1] != b.source[:-1]:
        raise StoryreelError("this cut is where a storyboard section starts on the song; correct the section "
                             "starts of the song instead", field="boundary")
    group = [s for s in plan.shots if s.source[:-1] == a.source[:-1]]
    if len({tuple(s.source) for s in group}) != len(group):
        raise StoryreelError("these shots share one prompt spread by pacing; give the shots lengths to move "
                             "their cuts", field="boundary")
    grid = Grid(music, plan.fps)
    pos = positions(plan, grid)
    target = snap(grid, t, pos[left], pos[left + 2], to)
    beats = {s.index: pos[s.index + 1] - pos[s.index] for s in group}
    beats[left], beats[left + 1] = target - pos[left], pos[left + 2] - target
    edits: list[tuple[list, str | None]] = [(list(s.source) + ["length"], f"{beats[s.index]} beats")
                                            for s in group[:-1]]
    edits.append((list(group[-1].source) + ["length"], None))  # the last of the list fills what is left
    return edits, grid.source_index[target] if target < grid.end else len(music.beats)
