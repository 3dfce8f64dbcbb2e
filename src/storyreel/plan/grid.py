"""The song's beats as the grid shots are placed on: boundary positions in output frames, bars, lengths."""

from __future__ import annotations

import bisect
import math
from typing import Optional

from ..music import MusicMap
from ..storyboard import Length

Loc = tuple  # a location in the storyboard, e.g. ("shots", 3, "length")


class Grid:
    """The song's beats as boundary positions in output frames.

    Position p (0 <= p < n) is beat p, at frame round(times[p] * fps);
    position n (`end`) is the end of the song, at the final frame.
    """

    def __init__(self, music: MusicMap, fps: int):
        self.fps = fps
        self.duration = float(music.duration)
        self.total = round(self.duration * fps)
        self.bpb = max(1, int(music.beats_per_bar))
        self.notes: list[str] = []
        self.times: list[float] = []
        self.frames: list[int] = []
        self.source_index: list[int] = []  # position -> index into music.beats
        for i, t in sorted(enumerate(music.beats), key=lambda it: it[1]):
            f = round(t * fps)
            if math.isfinite(t) and t >= 0 and f < self.total and (not self.frames or f > self.frames[-1]):
                self.times.append(float(t))
                self.frames.append(f)
                self.source_index.append(i)
        self.end = len(self.times)
        self.period = 60.0 / music.tempo if music.tempo > 0 else self._median_period()
        self.bars = self._match_downbeats(music.downbeats)

    def _median_period(self) -> float:
        gaps = sorted(b - a for a, b in zip(self.times, self.times[1:]))
        return gaps[len(gaps) // 2] if gaps else 0.5

    def _match_downbeats(self, downbeats: list[float]) -> list[int]:
        """Beat positions of the downbeats (each matched to its nearest beat within half a beat)."""
        found: set[int] = set()
        for t in downbeats:
            p = self.nearest(t, 0, self.end - 1)
            if p is not None and abs(self.times[p] - t) <= 0.5 * self.local_period(p):
                found.add(p)
        if not found and self.times:
            self.notes.append(f"no downbeats matched the beats; bars assumed every {self.bpb} beats from the first")
            found = set(range(0, self.end, self.bpb))
        return sorted(found)

    # Positions ------------------------------------------------------------------

    def frame(self, p: int) -> int:
        return self.total if p >= self.end else self.frames[p]

    def time(self, p: int) -> float:
        return self.duration if p >= self.end else self.times[p]

    def local_period(self, p: int) -> float:
        """Seconds between beat p and the next (or previous, at the end)."""
        if 0 <= p < self.end - 1:
            return self.times[p + 1] - self.times[p]
        if p >= 1 and self.end >= 2:
            return self.times[min(p, self.end - 1)] - self.times[min(p, self.end - 1) - 1]
        return self.period

    def nearest(self, t: float, lo: int, hi: int) -> Optional[int]:
        """The position in [lo, hi] whose time is nearest t (the end counts, at the song's duration)."""
        if hi < lo:
            return None
        candidates = {lo, hi}
        top = min(hi, self.end - 1)
        if top >= lo:
            i = bisect.bisect_left(self.times, t, lo, top + 1)
            candidates |= {max(lo, i - 1), min(top, i)}
        return min(sorted(candidates), key=lambda q: abs(self.time(q) - t))

    @property
    def start(self) -> int:
        """Position where counting bars begins: the first downbeat."""
        return self.bars[0] if self.bars else 0

    def bar_index(self, p: int) -> int:
        """0-based index of the bar containing position p (-1 before the first downbeat)."""
        return bisect.bisect_right(self.bars, p) - 1

    def bars_between(self, a: int, b: int) -> int:
        """How many bars start in [a, b) — the span's length in bars, counting a partial first bar as one."""
        inside = bisect.bisect_left(self.bars, b) - bisect.bisect_right(self.bars, a)
        return inside + 1

    def nearest_bar(self, t: float) -> int:
        """The downbeat position nearest time t (the end of the song counts as one)."""
        options = self.bars + [self.end]
        return min(options, key=lambda p: abs(self.time(p) - t))

    def beat_coord(self, t: float) -> float:
        """Time -> fractional beat index, extrapolating beyond the first and last beats."""
        if not self.times:
            return t / self.period
        if t <= self.times[0]:
            return (t - self.times[0]) / self.local_period(0)
        if t >= self.times[-1]:
            return self.end - 1 + (t - self.times[-1]) / self.local_period(self.end - 1)
        i = bisect.bisect_right(self.times, t) - 1
        return i + (t - self.times[i]) / (self.times[i + 1] - self.times[i])

    # Moving along the grid ------------------------------------------------------

    def advance(self, p: int, length: Length, start_time: float) -> tuple[int, Optional[str]]:
        """Position `length` after position p (may exceed `end` = does not fit), and a note if rounded."""
        if length.unit == "bars":
            k = bisect.bisect_left(self.bars, p)
            on_bar = k < len(self.bars) and self.bars[k] == p
            if on_bar and float(length.value).is_integer():
                target = k + int(length.value)
                if target < len(self.bars):
                    return self.bars[target], None
                return self.end + (target - len(self.bars)) * self.bpb, None  # at or past the end
            beats = length.value * self.bpb
        elif length.unit == "beats":
            beats = length.value
        else:
            target_t = start_time + length.value
            if target_t > self.duration + 0.5 * self.period:
                return self.end + 1, None
            q = self.nearest(target_t, p + 1, self.end)
            return (q if q is not None else self.end + 1), None
        n = max(1, round(beats))
        note = None if math.isclose(n, beats) else f"{length} is {beats:g} beats; rounded to {n}"
        return p + n, note

    def estimate_beats(self, length: Length) -> float:
        """Rough length in beats, to reserve room for fixed-length shots further on."""
        if length.unit == "bars":
            return length.value * self.bpb
        if length.unit == "beats":
            return max(1.0, round(length.value))
        return length.value / self.period

    def split(self, a: int, e: int, k: int) -> Optional[tuple[list[int], bool]]:
        """k-1 boundaries dividing [a, e] evenly: (boundaries, on_downbeats), or None if fewer than k beats."""
        if k == 1:
            return [], True
        segs = [a] + [d for d in self.bars if a < d < e]
        on_bars = len(segs) >= k
        if not on_bars:
            segs = list(range(a, e))
            if len(segs) < k:
                return None
        n = len(segs)
        return [segs[round(i * n / k)] for i in range(1, k)], on_bars
