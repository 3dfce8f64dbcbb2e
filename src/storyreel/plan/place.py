"""Placing storyboard shots on the Grid: which beats each shot starts and ends on (rules in storyreel.plan)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..music import MusicMap, Section
from ..storyboard import SectionSpec, ShotSpec, Storyboard
from .grid import Grid, Loc


@dataclass
class Item:
    """A shot before timing: what it shows, where it came from, and the span it lives in."""

    spec: ShotSpec
    loc: Loc  # storyboard location of the shot
    section_spec: Optional[SectionSpec] = None
    part: int = 0  # in a plain prompt list: which repetition of the prompt this is
    parts: int = 1
    prompt_number: int = 0
    prompts: int = 0
    start: int = 0  # grid position
    end: int = 0
    notes: list[str] = field(default_factory=list)


class Placer:
    """Places storyboard shots on a Grid; raises storyboard-located errors."""

    def __init__(self, sb: Storyboard, music: MusicMap, grid: Grid):
        self.sb, self.music, self.grid = sb, music, grid
        self._timeline: Optional[list[tuple[float, str]]] = None

    # A run of shots in a span ------------------------------------------------------

    def place(self, items: list[Item], a: int, e: int, span: str, start_time: float) -> None:
        """Set start/end positions of `items` so they tile [a, e] (in order)."""
        g, cursor, i, n = self.grid, a, 0, len(items)
        while i < n:
            length = items[i].spec.parsed_length
            if length is None:
                j = i
                while j < n and items[j].spec.parsed_length is None:
                    j += 1
                run_end = self._run_end(items, i, j, cursor, e, span)
                self._split(items[i:j], cursor, run_end, span)
                cursor, i = run_end, j
                start_time = g.time(cursor)
                continue
            item = items[i]
            target, note = g.advance(cursor, length, start_time)
            room_after = n - 1 - i  # each later shot needs at least one beat
            if target > e:
                raise self.sb.error(item.loc + ("length",), f"{length} does not fit: together with the shots "
                                    f"before it, it runs past the end of {span}")
            if target > e - room_after or (target >= e and i < n - 1):
                raise self.sb.error(item.loc + ("length",), f"{length} leaves {_count(max(0, e - target), 'beat')} "
                                    f"for the {_count(room_after, 'shot')} after it; each needs at least one")
            if i == n - 1 and target < e:
                extra = g.beat_coord(g.time(e)) - g.beat_coord(g.time(target))
                note = f"held {extra / g.bpb:.1f} bars longer than {length}, to the end of {span}"
            if note:
                item.notes.append(note)
            item.start, item.end = cursor, (e if i == n - 1 else target)
            cursor, i = item.end, i + 1
            start_time = g.time(cursor)

    def _run_end(self, items: list[Item], i: int, j: int, cursor: int, e: int, span: str) -> int:
        """Where a run of flexible shots items[i:j] should end: its even share of the room left."""
        g = self.grid
        if j == len(items):
            return e
        fixed_after = sum(g.estimate_beats(it.spec.parsed_length) for it in items[j:] if it.spec.parsed_length)
        flex_after = sum(1 for it in items[j:] if it.spec.parsed_length is None)
        run = j - i
        lo = cursor + run
        hi = e - (len(items) - j)  # leave a beat for every later shot
        if hi < lo:
            raise self.sb.error(items[i].loc, f"not enough beats for the shots in {span}")
        room = (e - cursor) - fixed_after
        target = cursor + max(run, room * run / (run + flex_after))
        t = g.time(min(g.end, round(target)))
        bars = [d for d in g.bars if lo <= d <= hi]
        if bars:
            return min(bars, key=lambda d: abs(g.time(d) - t))
        return max(lo, min(hi, round(target)))

    def _split(self, run: list[Item], a: int, e: int, span: str) -> None:
        result = self.grid.split(a, e, len(run))
        if result is None:
            where = run[0].loc[:-1] if len(run[0].loc) > 1 else run[0].loc  # the list the shots are in
            raise self.sb.error(where, f"{span} has only {max(0, e - a)} beats for {len(run)} shots; "
                                "remove shots or give lengths")
        bounds, on_bars = result
        if not on_bars:
            run[0].notes.append(f"{len(run)} shots in fewer bars: cut on beats instead of downbeats")
        edges = [a] + bounds + [e]
        for item, s, t in zip(run, edges, edges[1:]):
            item.start, item.end = s, t

    def song_span(self) -> str:
        g = self.grid
        return f"the song ({g.bars_between(g.start, g.end)} bars, {g.duration:.1f}s)"

    def timeline(self) -> list[tuple[float, str]]:
        """(position 0..1, era) of each timeline keyframe, sorted; section references resolved once."""
        if self._timeline is None:
            keys = [(self.timeline_at(i), k.era) for i, k in enumerate(self.sb.timeline)]
            self._timeline = sorted(keys, key=lambda k: k[0])
        return self._timeline

    def timeline_at(self, i: int) -> float:
        """A keyframe's position as a fraction of the song (a section reference -> the section's start)."""
        at = self.sb.timeline[i].at
        if isinstance(at, float):
            return at
        music = self.music_spans()
        ref: int | str = int(at) if at.isdigit() else at
        for k, ((a, _), s) in enumerate(music):
            if s is not None and (ref == k + 1 or s.label == ref or (s.name and s.name.lower() == str(ref).lower())):
                return self.grid.frame(a) / self.grid.total if k else 0.0
        names = ", ".join(f"{k + 1}={s.name or s.label}" for k, (_, s) in enumerate(music) if s is not None)
        raise self.sb.error(("timeline", i, "at"), f'no song section "{at}" (the song has: {names or "none"})')

    # Modes ----------------------------------------------------------------------

    def shots_mode(self) -> list[Item]:
        assert self.sb.shots is not None
        g = self.grid
        items = [Item(spec, ("shots", i)) for i, spec in enumerate(self.sb.shots)]
        if all(spec.length is None for spec in self.sb.shots):
            paced = self.paced(items)
            if paced is not None:
                return paced
        self.place(items, g.start, g.end, self.song_span(), 0.0)
        return items

    def paced(self, prompts: list[Item]) -> Optional[list[Item]]:
        """A plain prompt list: slots from pacing, prompts spread over them in order (None if too few slots)."""
        g, slots = self.grid, []
        for (a, e), section in self.music_spans():
            bars = g.bars_between(a, e)
            per = self.bars_per_shot(section)
            k = max(1, round(bars / per))
            while k > 1 and g.split(a, e, k) is None:
                k -= 1
            bounds, _ = g.split(a, e, k) or ([], True)
            edges = [a] + bounds + [e]
            slots += list(zip(edges, edges[1:]))
        if len(slots) < len(prompts):
            for it in prompts[:1]:
                it.notes.append(f"pacing {self.sb.pacing} gives {len(slots)} shots for {len(prompts)} prompts; "
                                "one shot per prompt instead")
            return None
        out: list[Item] = []
        n, s = len(prompts), len(slots)
        owner = [j * n // s for j in range(s)]
        for j, (a, e) in enumerate(slots):
            src = prompts[owner[j]]
            part = owner[:j].count(owner[j])
            item = Item(src.spec, src.loc, part=part, parts=owner.count(owner[j]), prompt_number=owner[j] + 1,
                         prompts=n, start=a, end=e)
            out.append(item)
        return out

    def bars_per_shot(self, section: Optional[Section]) -> int:
        """Pacing: bars per shot for a song section (auto: quieter sections get longer shots)."""
        fixed = {"slow": 4, "normal": 2, "fast": 1}
        if self.sb.pacing in fixed:
            return fixed[self.sb.pacing]
        ranks = {s.energy_rank for s in self.music.sections}
        if section is None or len(ranks) < 2:
            return 2
        lo, hi = min(ranks), max(ranks)
        f = (section.energy_rank - lo) / (hi - lo)
        return 4 if f <= 0.25 else 2 if f < 0.75 else 1

    def music_spans(self) -> list[tuple[tuple[int, int], Optional[Section]]]:
        """The song's sections as grid spans [start, end) on downbeats, tiling the whole song."""
        g = self.grid
        starts: list[tuple[int, Section]] = []
        for s in sorted(self.music.sections, key=lambda s: s.start):
            p = g.start if not starts else g.nearest_bar(s.start)
            if p < g.end and (not starts or p > starts[-1][0]):
                starts.append((p, s))
        if not starts:
            return [((g.start, g.end), None)]
        ends = [p for p, _ in starts[1:]] + [g.end]
        return [((p, e), s) for (p, s), e in zip(starts, ends)]

    def sections_mode(self) -> list[Item]:
        assert self.sb.sections is not None
        spans = self.section_spans()
        items: list[Item] = []
        for si, (spec, ((a, e), label, note)) in enumerate(zip(self.sb.sections, spans)):
            run = [Item(shot, ("sections", si, "shots", j), spec) for j, shot in enumerate(spec.shots)]
            if note:
                run[0].notes.append(note)
            span = f"section {si + 1} ({label}: {self.grid.bars_between(a, e)} bars)"
            self.place(run, a, e, span, 0.0 if si == 0 else self.grid.time(a))
            items += run
        return items

    def section_spans(self) -> list[tuple[tuple[int, int], str, str]]:
        """((start, end), song-section label, note) for each storyboard section."""
        assert self.sb.sections is not None
        g, specs = self.grid, self.sb.sections
        music = self.music_spans()
        if music[0][1] is None or (len(specs) != len(music) and all(s.section is None for s in specs)):
            return self.proportional_spans()
        chosen: list[int] = []
        for i, spec in enumerate(specs):
            chosen.append(self.find_section(i, spec, music, chosen[-1] if chosen else -1))
        starts = [g.start] + [music[m][0][0] for m in chosen[1:]]
        ends = starts[1:] + [g.end]
        out = []
        for i, m in enumerate(chosen):
            section = music[m][1]
            label = (section.name or section.label) if section else "song"
            covered = [music[k][1] for k in range(m + 1, chosen[i + 1] if i + 1 < len(chosen) else len(music))]
            note = ""
            if covered and any(c is not None for c in covered):
                names = ", ".join((c.name or c.label) for c in covered if c is not None)
                note = f"also covers the song's unassigned section(s) {names}"
            out.append(((starts[i], ends[i]), label, note))
        return out

    def find_section(self, i: int, spec: SectionSpec, music: list, prev: int) -> int:
        """Index into music spans for storyboard section i: the next match after `prev`."""
        ref = spec.section
        loc = ("sections", i, "section")
        if ref is None:
            if prev + 1 >= len(music):
                raise self.sb.error(("sections", i), f"the song has only {_count(len(music), 'section')}; "
                                    "this storyboard section has none left to attach to")
            return prev + 1
        if isinstance(ref, str) and ref.isdigit():
            ref = int(ref)
        if isinstance(ref, int):
            if not 1 <= ref <= len(music):
                raise self.sb.error(loc, f"the song has {_count(len(music), 'section')}; there is no section {ref}")
            if ref - 1 <= prev:
                raise self.sb.error(loc, f"song section {ref} is not after the previous storyboard section's; "
                                    "keep song order")
            return ref - 1
        for m in range(prev + 1, len(music)):
            s = music[m][1]
            if s is not None and (s.label == ref or (s.name and s.name.lower() == ref.lower())):
                return m
        available = ", ".join(f"{k + 1}={s.name or s.label}" for k, (_, s) in enumerate(music) if s is not None)
        has_names = any(s.name for _, s in music if s is not None)
        hint = "" if has_names else " (this song's sections have labels but no names)"
        later = "" if prev < 0 else " after the previous storyboard section"
        raise self.sb.error(loc, f'no song section "{ref}"{later}; the song has {available}{hint}')

    def proportional_spans(self) -> list[tuple[tuple[int, int], str, str]]:
        """Fallback: divide the song's bars among storyboard sections by their `bars:` (else evenly)."""
        assert self.sb.sections is not None
        g, specs = self.grid, self.sb.sections
        weights = [s.bars or 0 for s in specs]
        if not all(weights):
            weights = [1] * len(specs)
        segs = [g.start] + [d for d in g.bars if g.start < d < g.end]
        if len(segs) < len(specs):
            raise self.sb.error(("sections",), f"the song has {len(segs)} bars for {len(specs)} sections")
        total, cum, bounds = sum(weights), 0, []
        for w in weights[:-1]:
            cum += w
            bounds.append(round(cum / total * len(segs)))
        bounds = [max(b, i + 1) for i, b in enumerate(bounds)]  # at least one bar each
        edges = [segs[0]] + [segs[min(b, len(segs) - 1)] for b in bounds] + [g.end]
        if any(b <= a for a, b in zip(edges, edges[1:])):
            raise self.sb.error(("sections",), f"the song has too few bars for {len(specs)} sections")
        count = len(self.music.sections)
        why = (f"the song has {count} sections, the storyboard {len(specs)}" if count else "the song has no sections")
        note = f"{why}: sections placed in proportion to their `bars`" if any(s.bars for s in specs) else \
            f"{why}: song divided evenly among the storyboard's sections"
        return [((a, b), "song", note) for a, b in zip(edges, edges[1:])]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
