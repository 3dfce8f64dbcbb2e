"""ShotPlan: frame-exact shots on the song's grid, with full prompts, seeds, camera and transitions.

`make_plan(storyboard, music)` decides where every shot starts and ends, and
what it shows. The rules:

Timing
    The video has `round(music.duration * fps)` frames. Every boundary
    between shots sits on a beat and is the integer frame `round(t * fps)`
    of that beat's time `t`, computed once from the beat time (never by
    adding shot lengths), so nothing drifts over a long song. The first shot
    starts at frame 0 (it absorbs any lead-in before the first downbeat) and
    the last ends at the final frame (it absorbs the tail after the last
    beat). Downbeats are matched to their nearest beat.

Lengths (`length:` on a shot)
    "2 bars" moves to the downbeat two bars on; "4 beats" four beats on;
    "3.5s" to the beat nearest 3.5 s after the shot's start. Fractions of a
    beat are rounded to the nearest beat. Lengths are consumed in order; if
    they run past the end of the song (or of their section) that is an
    error; if they end early, the last shot is held to the end (with a note).

`shots` mode
    Shots without a length share what the fixed-length shots leave, evenly,
    cut on downbeats (or on beats, with a note, if there are more shots than
    bars; more shots than beats is an error).

    A plain prompt list (no shot has a length) is a story told at the song's
    pace: `pacing` sets the bars per shot (slow 4, normal 2, fast 1; auto:
    from each song section's energy rank, quietest 4 ... loudest 1), and the
    prompts are spread in order over the resulting shots, each prompt held
    for one or more consecutive shots with fresh seeds. If that gives fewer
    shots than prompts, every prompt gets exactly one shot instead.

`sections` mode
    Each storyboard section is attached to a song section: by `section:`
    (a 1-based number, a label such as "B", or a name such as "chorus" when
    the analysis knows names; the next match after the previous storyboard
    section is taken, so "chorus" three times means the three choruses),
    otherwise the one after the previous storyboard section. If no section
    names one and the counts differ, the song's bars are divided among the
    storyboard sections in proportion to their `bars:` (or evenly), with a
    note. A storyboard section runs until the next one starts, so skipped
    song sections are covered by the section before them. Its bars are
    divided among its shots as in `shots` mode (pacing plays no part: the
    author chose the number of shots).

Looks
    A shot's prompt is "<text>, <era>, <style>" with `{name}` replaced by the
    character's description. The era is its section's `era`, else taken from
    the `timeline`: the two keyframes around the shot's midpoint are found
    and the nearer one is used (text cannot be blended, and a
    nearest-keyframe rule lets a look arrive halfway between keyframes).
    The camera is the storyboard default, overridden field by field by the
    section's and then the shot's. A transition's length in beats becomes
    frames at the local beat period, centred on the boundary, and is capped
    at the shorter of the two shots it joins. The first shot always starts
    with a cut.

Seeds
    A shot's seed is its own `seed:` if given, else a hash of the base seed,
    the shot text and how many times that text has appeared before; so
    inserting a shot does not change the seeds (and cached takes) of others.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Optional

from rich.table import Table

from storyreel.errors import StoryreelError
from storyreel.music import MusicMap, Section
from storyreel.storyboard import (
    CameraSpec,
    Length,
    SectionSpec,
    ShotSpec,
    Storyboard,
    TransitionSpec,
    referenced_names,
    storyboard_hash,
    substitute,
)


@dataclass
class CameraMove:
    """A digital camera move over a shot: kind, amount, easing, and audio reactivity."""

    move: str = "static"  # static, zoom_in, zoom_out, pan_left, pan_right, tilt_up, tilt_down, dolly_zoom, shake
    amount: float = 0.1  # per second: zoom = fractional scale change, pan/tilt = frame widths, shake = 10x peak offset
    easing: str = "linear"  # linear, ease_in, ease_out, ease_in_out
    continuous: bool = False  # each shot starts from the previous shot's last frame
    intensity: float = 0.0  # 0 = ignore the music; >0 = speed follows energy and kicks on onsets


@dataclass
class Transition:
    """How a shot begins: cut, crossfade or zoom_through, centred on its start boundary."""

    kind: str = "cut"
    beats: float = 0.0  # length in beats
    frames: int = 0  # length in output frames (derived from beats and tempo)


@dataclass
class Grade:
    """Colour continuity (storyreel.grade): match each shot's opening colours to what the viewer saw before."""

    match: str = "previous"  # previous: the previous shot's last frame; reference: the `reference` image
    strength: float = 1.0  # 0..1: how far the shot's first frame is moved to the target's colours
    ramp: bool = True  # ease the grade out over the shot (smoothstep), so the shot ends in its own colours
    reference: str = ""  # absolute path of the reference image (match: reference)


@dataclass
class Shot:
    index: int
    start_frame: int
    end_frame: int  # exclusive
    start: float  # seconds (= start_frame / fps)
    end: float
    prompt: str  # full prompt: style + characters + shot text
    text: str  # the storyboard's own shot text
    seed: int
    camera: CameraMove
    transition: Transition
    section: str  # section label (A, B, ...) or name
    bars: float  # length in bars
    start_bar: int = 0  # 1-based bar number at the shot's start
    start_beat: int = 0  # index into MusicMap.beats of the shot's start
    era: str = ""  # look/style interpolated from a timeline, if any
    model: str = "builtin"
    notes: list[str] = field(default_factory=list)  # what the planner decided and why (fallbacks etc.)
    characters: list[str] = field(default_factory=list)  # names of the characters the prompt mentions

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame


@dataclass
class ShotPlan:
    title: str
    fps: int
    width: int
    height: int
    frames: int  # total output frames
    duration: float  # seconds = frames / fps
    model: str
    song: str  # resolved path of the audio
    shots: list[Shot]
    seed: int = 0
    takes: int = 1
    storyboard_hash: str = ""
    negative: str = ""  # negative prompt for every shot
    characters: dict[str, dict] = field(default_factory=dict)  # name -> {"description", "image" (abs path or "")}
    grade: Optional[Grade] = None  # colour continuity; None = off

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ShotPlan":
        d = dict(d)
        shots = []
        for s in d["shots"]:
            s = dict(s)
            s["camera"] = CameraMove(**s["camera"])
            s["transition"] = Transition(**s["transition"])
            shots.append(Shot(**s))
        d["shots"] = shots
        if d.get("grade") is not None:
            d["grade"] = Grade(**d["grade"])
        return cls(**d)


# The grid ----------------------------------------------------------------------------


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


# Placement ---------------------------------------------------------------------------


@dataclass
class _Item:
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


class _Planner:
    """Places storyboard shots on a Grid; raises storyboard-located errors."""

    def __init__(self, sb: Storyboard, music: MusicMap, grid: Grid):
        self.sb, self.music, self.grid = sb, music, grid
        self._timeline: Optional[list[tuple[float, str]]] = None

    # A run of shots in a span ------------------------------------------------------

    def place(self, items: list[_Item], a: int, e: int, span: str, start_time: float) -> None:
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

    def _run_end(self, items: list[_Item], i: int, j: int, cursor: int, e: int, span: str) -> int:
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

    def _split(self, run: list[_Item], a: int, e: int, span: str) -> None:
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

    def shots_mode(self) -> list[_Item]:
        assert self.sb.shots is not None
        g = self.grid
        items = [_Item(spec, ("shots", i)) for i, spec in enumerate(self.sb.shots)]
        if all(spec.length is None for spec in self.sb.shots):
            paced = self.paced(items)
            if paced is not None:
                return paced
        self.place(items, g.start, g.end, self.song_span(), 0.0)
        return items

    def paced(self, prompts: list[_Item]) -> Optional[list[_Item]]:
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
        out: list[_Item] = []
        n, s = len(prompts), len(slots)
        owner = [j * n // s for j in range(s)]
        for j, (a, e) in enumerate(slots):
            src = prompts[owner[j]]
            part = owner[:j].count(owner[j])
            item = _Item(src.spec, src.loc, part=part, parts=owner.count(owner[j]), prompt_number=owner[j] + 1,
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

    def sections_mode(self) -> list[_Item]:
        assert self.sb.sections is not None
        spans = self.section_spans()
        items: list[_Item] = []
        for si, (spec, ((a, e), label, note)) in enumerate(zip(self.sb.sections, spans)):
            run = [_Item(shot, ("sections", si, "shots", j), spec) for j, shot in enumerate(spec.shots)]
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


# Building shots ------------------------------------------------------------------------


def make_plan(storyboard: Storyboard, music: MusicMap, *, model: Optional[str] = None,
              seed: Optional[int] = None) -> ShotPlan:
    """Plan every shot of `storyboard` on `music`'s grid (rules in the module docstring)."""
    sb = storyboard
    fps = sb.output.fps
    grid = Grid(music, fps)
    if grid.total < 1 or grid.end < 1:
        raise sb.error(("song",), f"the song is too short or has no beats ({music.duration:.2f}s, "
                       f"{len(music.beats)} beats)")
    planner = _Planner(sb, music, grid)
    planner.timeline()  # resolve keyframes up front, so a bad `at` is reported even if no shot uses it
    items = planner.sections_mode() if sb.sections is not None else planner.shots_mode()
    base_seed = sb.seed if seed is None else seed
    model_name = model or sb.model
    shots = [_build_shot(i, item, planner, model_name) for i, item in enumerate(items)]
    _seed_shots(shots, items, base_seed)
    _finish_transitions(shots, items, grid, sb.transition)
    if grid.notes:
        shots[0].notes = grid.notes + shots[0].notes
    return ShotPlan(
        title=sb.display_title,
        fps=fps,
        width=sb.output.width,
        height=sb.output.height,
        frames=grid.total,
        duration=grid.total / fps,
        model=model_name,
        song=_song_name(sb, music),
        shots=shots,
        seed=base_seed,
        takes=sb.takes,
        storyboard_hash=storyboard_hash(sb),
        negative=substitute(sb.negative, sb.character_text()),
        characters={name: {"description": c.description, "image": str(sb.resolve_image(name) or "")}
                    for name, c in sb.characters.items()},
        grade=_grade(sb),
    )


def _grade(sb: Storyboard) -> Optional[Grade]:
    """The storyboard's `grade:` as plan data (ramp defaults: on for previous, off for reference)."""
    g = sb.grade
    if g is None:
        return None
    ramp = g.match == "previous" if g.ramp is None else g.ramp
    return Grade(g.match, g.strength, ramp, str(sb.resolve_grade_reference() or ""))


def _song_name(sb: Storyboard, music: MusicMap) -> str:
    path = sb.resolve_song_path()
    return str(path) if path else (music.source or "demo")


def _build_shot(index: int, item: _Item, planner: _Planner, model: str) -> Shot:
    """A Shot from a placed item: frames, grid facts, prompt, camera; seed and transition come later."""
    sb, g = planner.sb, planner.grid
    start_frame = 0 if index == 0 else g.frame(item.start)
    end_frame = g.frame(item.end)
    if end_frame <= start_frame:
        raise sb.error(item.loc, f"shot {index + 1} would have no frames at {g.fps} fps; "
                       "use fewer shots or a higher fps")
    start_t, end_t = start_frame / g.fps, end_frame / g.fps
    exact_start = g.time(item.start) if index else 0.0  # musical length from beat times, not rounded frames
    era = _era(planner, item, (start_frame + end_frame) / 2 / g.total)
    text = item.spec.prompt
    camera = _camera(sb.camera, item.section_spec.camera if item.section_spec else None, item.spec.camera)
    notes = list(item.notes)
    if item.parts > 1:
        notes.append(f"prompt {item.prompt_number} of {item.prompts}, part {item.part + 1} of {item.parts}")
    if camera.continuous and index > 0:
        notes.append("camera continues from the previous shot's last frame")
    section = _section_at(planner.music, exact_start)
    names = referenced_names(text) + referenced_names(era) + referenced_names(sb.style)
    return Shot(
        index=index,
        start_frame=start_frame,
        end_frame=end_frame,
        start=start_t,
        end=end_t,
        prompt=full_prompt(sb, text, era),
        text=text,
        seed=0,
        camera=camera,
        transition=Transition(),
        section=(section.name or section.label) if section else "",
        bars=round((g.beat_coord(g.time(item.end)) - g.beat_coord(exact_start)) / g.bpb, 3),
        start_bar=max(1, g.bar_index(item.start) + 1) if index else 1,
        start_beat=g.source_index[item.start] if index and item.start < g.end else 0,
        era=era,
        model=model,
        notes=notes,
        characters=list(dict.fromkeys(names)),
    )


def full_prompt(sb: Storyboard, text: str, era: str) -> str:
    """"<text>, <era>, <style>" with every `{name}` replaced by the character's description."""
    chars = sb.character_text()
    return ", ".join(p for p in (substitute(text, chars), substitute(era, chars), substitute(sb.style, chars)) if p)


def _section_at(music: MusicMap, t: float) -> Optional[Section]:
    """The song section playing at time t (the first one before it starts)."""
    sections = sorted(music.sections, key=lambda s: s.start)
    current = sections[0] if sections else None
    for s in sections:
        if s.start <= t + 1e-6:
            current = s
    return current


def _camera(*layers: Optional[CameraSpec]) -> CameraMove:
    """Merge camera specs field by field: later layers override only the fields they set."""
    camera = CameraMove()
    for layer in layers:
        if layer is not None:
            for name in layer.model_fields_set:
                setattr(camera, name, getattr(layer, name))
    return camera


def _era(planner: _Planner, item: _Item, midpoint: float) -> str:
    """The section's era, else the timeline keyframe nearer the shot's midpoint (0..1 of the song)."""
    if item.section_spec is not None and item.section_spec.era:
        return item.section_spec.era
    keys = planner.timeline()
    if not keys:
        return ""
    i = bisect.bisect_right([at for at, _ in keys], midpoint)
    if i == 0:
        return keys[0][1]
    if i == len(keys):
        return keys[-1][1]
    (a, era_a), (b, era_b) = keys[i - 1], keys[i]
    return era_a if midpoint - a <= b - midpoint else era_b


def _seed_shots(shots: list[Shot], items: list[_Item], base_seed: int) -> None:
    """Each shot's own seed (+ part), else hash(base seed, text, occurrence of that text)."""
    seen: dict[str, int] = {}
    for shot, item in zip(shots, items):
        occurrence = seen.get(shot.text, 0)
        seen[shot.text] = occurrence + 1
        if item.spec.seed is not None:
            shot.seed = item.spec.seed + item.part
        else:
            shot.seed = derive_seed(base_seed, shot.text, occurrence)


def derive_seed(base_seed: int, text: str, occurrence: int) -> int:
    """A stable 31-bit seed from the storyboard seed, the shot text and its occurrence number."""
    digest = hashlib.sha256(f"{base_seed}\x00{text}\x00{occurrence}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _finish_transitions(shots: list[Shot], items: list[_Item], grid: Grid, default: TransitionSpec) -> None:
    """Transitions in frames at the local beat period, capped by the shots they join; shot 1 cuts in.

    A shot's own transition applies to its first part only (later parts of a
    held prompt use the storyboard default).
    """
    for i, (shot, item) in enumerate(zip(shots, items)):
        own = item.spec.transition if item.part == 0 else None
        if i == 0:
            if own is not None and own.kind != "cut":
                shot.notes.append("the first shot starts with a cut (nothing comes before it)")
            shot.transition = Transition()
            continue
        spec = own or default
        beats = spec.length_beats
        frames = round(beats * grid.local_period(item.start) * grid.fps)
        cap = min(shot.frames, shots[i - 1].frames)
        if frames > cap:
            shot.notes.append(f"{spec.kind} shortened from {frames} to {cap} frames to fit the shots it joins")
            frames = cap
        shot.transition = Transition(kind=spec.kind if frames > 0 else "cut", beats=beats, frames=frames)


# JSON and tables -------------------------------------------------------------------------


def plan_to_json(plan: ShotPlan) -> str:
    """The plan as indented JSON, for people to read and edit."""
    return json.dumps(plan.to_dict(), indent=2, ensure_ascii=False) + "\n"


def plan_from_json(text: str, *, file: Optional[str] = None) -> ShotPlan:
    """A ShotPlan from `plan_to_json` output; StoryreelError if it is not valid JSON or not a plan."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise StoryreelError(f"invalid JSON: {e.msg}", file=file, line=e.lineno) from None
    try:
        return ShotPlan.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise StoryreelError(f"not a storyreel plan ({type(e).__name__}: {e})", file=file) from None


def _clock(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:05.2f}"


def format_plan_table(plan: ShotPlan, *, width: int = 60) -> Table:
    """A rich table of the plan: one row per shot, prompt truncated to `width` characters."""
    table = Table(title=f"{plan.title}: {len(plan.shots)} shots, {_clock(plan.duration)}, "
                        f"{plan.width}x{plan.height} @ {plan.fps} fps, model {plan.model}")
    for name, justify in (("#", "right"), ("start", "right"), ("end", "right"), ("bars", "right"),
                          ("section", "left"), ("camera", "left"), ("transition", "left"), ("prompt", "left")):
        table.add_column(name, justify=justify, no_wrap=name != "prompt")
    for shot in plan.shots:
        camera = shot.camera.move + (" →" if shot.camera.continuous else "")
        transition = shot.transition.kind + (f" {shot.transition.frames}f" if shot.transition.frames else "")
        prompt = shot.prompt if len(shot.prompt) <= width else shot.prompt[: width - 1] + "…"
        table.add_row(str(shot.index + 1), _clock(shot.start), _clock(shot.end), f"{shot.bars:g}",
                      shot.section, camera, transition, prompt)
    return table
