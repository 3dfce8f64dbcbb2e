"""Storyboard + MusicMap + the backend's declared capabilities -> ShotPlan (the rules: storyreel.plan).

`make_plan` is the whole of planning: placement on the grid (plan.place),
each shot's prompt, era, camera and seed, its transition in frames, and what
the backend cannot do (no image conditioning: a continuous camera cuts with a
one-beat zoom-through instead; no reference images: noted). The result is
final: nothing after planning changes a shot, and the plan's Cut is derived
from it once, so `plan`, `animatic` and `render` show the same shots and
transitions.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Collection
from typing import Optional

from ..music import MusicMap, Section
from ..storyboard import CameraSpec, Storyboard, TransitionSpec, referenced_names, storyboard_hash, substitute
from .cut import transition_cap
from .grid import Grid
from .place import Item, Placer
from .shotplan import CameraMove, Grade, Shot, ShotPlan, Transition

FALLBACK_BEATS = 1.0  # a continuous cut on a backend without image conditioning: a zoom-through this long


def make_plan(
    storyboard: Storyboard,
    music: MusicMap,
    *,
    model: Optional[str] = None,
    seed: Optional[int] = None,
    takes: Optional[int] = None,
    grade: Optional[bool] = None,
    capabilities: Optional[Collection[str]] = None,
    model_options: Optional[dict] = None,
) -> ShotPlan:
    """Plan every shot of `storyboard` on `music`'s grid (rules in storyreel.plan).

    model, seed, takes override the storyboard's. grade: True/False turns the
    colour grade on (the storyboard's settings, else `match: previous`) or
    off; None keeps the storyboard's. capabilities: what the backend declares
    ("i2v", "reference", ...: models.registry.capabilities); None plans for a
    backend that can do everything. model_options: the backend's options
    (default: the storyboard's `model_options`), recorded in the plan.
    """
    sb = storyboard
    fps = sb.output.fps
    grid = Grid(music, fps)
    if grid.total < 1 or grid.end < 1:
        raise sb.error(("song",), f"the song is too short or has no beats ({music.duration:.2f}s, "
                       f"{len(music.beats)} beats)")
    placer = Placer(sb, music, grid)
    placer.timeline()  # resolve keyframes up front, so a bad `at` is reported even if no shot uses it
    items = placer.sections_mode() if sb.sections is not None else placer.shots_mode()
    base_seed = sb.seed if seed is None else seed
    model_name = model or sb.model
    shots = [_build_shot(i, item, placer, model_name) for i, item in enumerate(items)]
    _seed_shots(shots, items, base_seed)
    _finish_transitions(shots, items, grid, sb.transition)
    characters = {name: {"description": c.description, "image": str(sb.resolve_image(name) or "")}
                  for name, c in sb.characters.items()}
    if capabilities is not None:
        _fit_capabilities(shots, items, grid, set(capabilities), model_name, characters)
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
        takes=sb.takes if takes is None else takes,
        storyboard_hash=storyboard_hash(sb),
        negative=substitute(sb.negative, sb.character_text()),
        characters=characters,
        grade=_grade(sb) if grade is None else ((_grade(sb) or Grade()) if grade else None),
        beats_per_bar=sb.beats_per_bar,
        tempo=sb.tempo,
        downbeat_offset=sb.downbeat_offset,
        section_starts=sb.section_starts,
        model_options=dict(sb.backend_options if model_options is None else model_options),
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


def _build_shot(index: int, item: Item, planner: Placer, model: str) -> Shot:
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
        source=list(item.loc),
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


def _era(planner: Placer, item: Item, midpoint: float) -> str:
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


def _seed_shots(shots: list[Shot], items: list[Item], base_seed: int) -> None:
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


def _transition_frames(shots: list[Shot], i: int, grid: Grid, item: Item, kind: str, beats: float,
                       minimum: int = 0) -> Transition:
    """A transition of `beats` at the local beat period into shot i, capped by the shots it joins (noted)."""
    frames = max(minimum, round(beats * grid.local_period(item.start) * grid.fps))
    cap = transition_cap(shots, i)
    if frames > cap:
        shots[i].notes.append(f"{kind} shortened from {frames} to {cap} frames to fit the shots it joins")
        frames = cap
    return Transition(kind=kind if frames > 0 else "cut", beats=beats, frames=frames)


def _finish_transitions(shots: list[Shot], items: list[Item], grid: Grid, default: TransitionSpec) -> None:
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
        shot.transition = _transition_frames(shots, i, grid, item, spec.kind, spec.length_beats)


def _fit_capabilities(shots: list[Shot], items: list[Item], grid: Grid, capabilities: set[str], model: str,
                      characters: dict[str, dict]) -> None:
    """What the backend cannot do, planned for and noted: reference images it ignores, and continuous
    cameras without image conditioning, which cut with a one-beat zoom-through instead (at least 2 frames)."""
    for shot in shots:
        named = [n for n in shot.characters if characters.get(n, {}).get("image")]
        if named and "reference" not in capabilities:
            shot.notes.append(f"{model} takes no reference images: {named[0]}'s image is passed but not used")
    if "i2v" in capabilities:
        return
    for i, (shot, item) in enumerate(zip(shots, items)):
        if i > 0 and shot.camera.continuous and shot.transition.kind == "cut":
            shot.transition = _transition_frames(shots, i, grid, item, "zoom_through", FALLBACK_BEATS, minimum=2)
            shot.notes.append(f"{model} has no image conditioning: continuous camera falls back to a zoom-through")
