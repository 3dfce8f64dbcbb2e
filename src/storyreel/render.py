"""ShotPlan -> one take per shot: cache look-up, continuity chaining, takes.

Each shot needs enough native frames to cover its output span (its frames plus
the transition overlaps on either side) at the model's own fps; longer than
one generation is made by extension (models.chain). With a continuous camera
a shot starts from the previous shot's last frame as the camera saw it
(pushed in along the move), through the model's image-to-video conditioning,
so the move never breaks; a backend without conditioning falls back to a
zoom-through transition and the plan says so.

Every finished take goes to the content-addressed cache before the next
starts, so a killed render resumes where it stopped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from . import camera, edit
from .cache import TakeCache, take_key
from .errors import StoryreelError
from .models import chain
from .models.base import Clip, GenerationRequest, VideoModel
from .plan import Shot, ShotPlan, Transition

CHAIN_OVERLAP = 4  # frames of the previous generation that condition the next when extending


@dataclass
class TakeRecord:
    """One generated version of a shot and its score."""

    take: int
    seed: int
    key: str
    score: float | None = None
    scores: dict = field(default_factory=dict)
    cached: bool = False


@dataclass
class ShotResult:
    """The chosen take of a shot (native frames) and every take made for it."""

    index: int
    clip: Clip
    chosen: int
    takes: list[TakeRecord]
    conditioned_on_previous: bool = False


def native_frames_needed(plan: ShotPlan, index: int, model: VideoModel, overlaps: list[edit.Overlap]) -> int:
    """Native frames covering the shot's output span (with transition overlaps) at the model's fps."""
    shot = plan.shots[index]
    pre = overlaps[index].pre
    post = overlaps[index + 1].post if index + 1 < len(plan.shots) else 0
    seconds = (shot.frames + pre + post) / plan.fps
    n = math.ceil(seconds * model.native.fps) + 1
    return model.native.valid_frames(max(n, 2))


def native_size(plan: ShotPlan, model: VideoModel) -> tuple[int, int]:
    """(height, width) to generate at: the backend's choice for the output size, else its native size."""
    size_for = getattr(model, "size_for", None)
    if size_for is not None:
        return size_for(plan.width, plan.height)
    return model.native.height, model.native.width


def character_image(plan: ShotPlan, shot: Shot) -> np.ndarray | None:
    """The reference image (H, W, 3) uint8 RGB of the first character the shot names that has one, else None.

    Passed as GenerationRequest.reference_image to every take of the shot (it
    is part of the cache key); backends without the "reference" capability
    (the built-in model among them) ignore it, and the plan says so.
    """
    for name in shot.characters:
        path = plan.characters.get(name, {}).get("image")
        if path:
            from PIL import Image

            try:
                with Image.open(path) as im:
                    return np.asarray(im.convert("RGB"))
            except OSError as e:
                raise StoryreelError(f"cannot read {name}'s reference image: {e}", file=path) from None
    return None


def handoff_frame(
    plan: ShotPlan, prev_index: int, prev_frames: np.ndarray, music=None, fps: float | None = None
) -> np.ndarray:
    """What the camera would see one output frame after the previous shot's end, at native size (H, W, 3).

    This is what the next shot starts from, so its first frame continues the
    previous shot's last one without a stall or a jump:

    - the picture is the previous take at the time the viewer last saw it
      (with `fps`, the take's frame rate, the take is time-resampled onto the
      shot's output frames as `edit.assemble` does, which usually ends before
      the take's final frame) plus one output frame of motion; without `fps`,
      the take's final frame;
    - the window is the camera's at the shot's last output frame, pushed in
      by one more frame's zoom step when the move zooms in (zoom_in, an
      audio-reactive zoom), so the zoom rate carries straight across the cut.
      Moves that zoom out or pan cannot be carried on from inside the last
      frame; they hand off the last window as it was.
    """
    shot = plan.shots[prev_index]
    ov = edit.transition_overlaps(plan)
    post = ov[prev_index + 1].post if prev_index + 1 < len(plan.shots) else 0
    span = (shot.start_frame - ov[prev_index].pre, shot.end_frame + post)  # what edit.assemble renders
    k = shot.end_frame - 1 - span[0]  # the shot's last output frame, in span coordinates
    win = camera.shot_windows(plan, prev_index, music, span)[k]
    ext = camera.shot_windows(plan, prev_index, music, (span[0], max(span[1], shot.end_frame + 1)))
    step = ext[k + 1].zoom / ext[k].zoom  # the camera's next frame (ratios do not depend on the span)
    if step > 1:
        win = camera.Window(win.cx, win.cy, win.zoom * step, win.inner_zoom)
    src = prev_frames[-1]
    if fps is not None:
        pos = edit.resample_positions(len(prev_frames), fps, span[1] - span[0], plan.fps)
        nxt = pos[k] + (pos[k] - pos[k - 1] if k > 0 else 0.0)
        src = edit.blend_at(prev_frames, min(nxt, len(prev_frames) - 1))
    h, w = prev_frames.shape[1:3]
    return camera.render(np.ascontiguousarray(src), win, h, w)


def apply_conditioning_fallbacks(plan: ShotPlan, model: VideoModel) -> ShotPlan:
    """Continuous camera on a backend without image conditioning: zoom-through transitions instead, noted."""
    for shot in plan.shots:
        named = [n for n in shot.characters if plan.characters.get(n, {}).get("image")]
        note = f"{model.name} takes no reference images: {named[0]}'s image is passed but not used" if named else ""
        if note and "reference" not in model.capabilities and note not in shot.notes:
            shot.notes.append(note)
    if "i2v" in model.capabilities:
        return plan
    for shot in plan.shots[1:]:
        if shot.camera.continuous and shot.transition.kind == "cut":
            beat = 60.0 / 100.0
            shot.transition = Transition("zoom_through", 1.0, max(2, round(beat * plan.fps)))
            shot.notes.append(f"{model.name} has no image conditioning: continuous camera falls back to a zoom-through")
    return plan


@dataclass
class ShotSettings:
    """How every shot is made: takes per shot, forced picks, shots to regenerate, and take scoring.

    Plain data (plus the scorer, a module-level function), so an executor can
    send it to other processes or machines with the plan.
    """

    takes: int = 1
    pick: dict[int, int] = field(default_factory=dict)
    only: set[int] | None = None
    music: object = None
    scorer: Callable | None = None
    on_step: Callable | None = None

    def n_takes(self, index: int) -> int:
        return max(self.takes, self.pick.get(index, 0) + 1)


def conditioned_on_previous(plan: ShotPlan, index: int, model: VideoModel) -> bool:
    """Whether shot `index` starts from shot index-1's last frame (continuous camera, backend with i2v)."""
    return index > 0 and plan.shots[index].camera.continuous and "i2v" in model.capabilities


def needs_previous_to_choose(plan: ShotPlan, index: int, settings: ShotSettings) -> bool:
    """Whether choosing among shot `index`'s takes looks at the previous shot's chosen last frame (scoring)."""
    return index > 0 and settings.scorer is not None and settings.n_takes(index) > 1


def make_takes(
    plan: ShotPlan, index: int, model: VideoModel, cache: TakeCache, settings: ShotSettings,
    previous: ShotResult | None = None, which: list[int] | None = None,
) -> tuple[list[TakeRecord], list[Clip], bool]:
    """Generate (or fetch from the cache) every take of shot `index`: (records, clips, conditioned).

    `previous` (shot index-1's result) is needed only when the shot is
    conditioned on it; each take is in the cache before the next starts.
    `which`: just these take numbers (an executor making takes in parallel).
    """
    shot = plan.shots[index]
    n_native = native_frames_needed(plan, index, model, edit.transition_overlaps(plan))
    h, w = native_size(plan, model)
    base = GenerationRequest(
        prompt=shot.prompt, seed=shot.seed, height=h, width=w,
        frames=min(model.native.frames, n_native) if "extend" in model.capabilities else n_native,
        reference_image=character_image(plan, shot),
    )
    conditioned = conditioned_on_previous(plan, index, model)
    if conditioned:
        if previous is None:
            raise ValueError(f"shot {index} is conditioned on shot {index - 1}, whose result was not given")
        first = handoff_frame(plan, index - 1, previous.clip.frames, settings.music, previous.clip.fps)
        base = replace(base, first_frames=first[None])
    records, clips = [], []
    for k in range(settings.n_takes(index)) if which is None else which:
        req = replace(base, seed=shot.seed + 1_000_003 * k)
        key = take_key(model.identity(), req, {"n_frames": n_native, "overlap": CHAIN_OVERLAP})
        clip = None if (settings.only is not None and index in settings.only) else cache.get(key)
        cached = clip is not None
        if clip is None:
            clip = chain.generate_long(model, req, n_native, overlap=CHAIN_OVERLAP, progress=settings.on_step)
            cache.put(key, clip, {"shot": index, "take": k, "prompt": req.prompt, "seed": req.seed})
        records.append(TakeRecord(k, req.seed, key, cached=cached))
        clips.append(clip)
    return records, clips, conditioned


def choose_take(
    plan: ShotPlan, index: int, records: list[TakeRecord], clips: list[Clip], conditioned: bool,
    settings: ShotSettings, previous: ShotResult | None = None,
) -> ShotResult:
    """Score the takes (against the previous shot's chosen last frame) and keep the forced or best one."""
    n_takes = len(clips)
    prev_last = previous.clip.frames[-1] if previous is not None else None
    if settings.scorer is not None and n_takes > 1:
        for rec, clip in zip(records, clips):
            rec.score, rec.scores = settings.scorer(clip.frames, prev_last, plan.shots[index])
    if index in settings.pick:
        chosen = settings.pick[index]
    elif settings.scorer is not None and n_takes > 1:
        chosen = max(range(n_takes), key=lambda k: records[k].score)
    else:
        chosen = 0
    return ShotResult(index, clips[chosen], chosen, records, conditioned)


def generate_shot(
    plan: ShotPlan, index: int, model: VideoModel, cache: TakeCache, settings: ShotSettings,
    previous: ShotResult | None = None,
) -> ShotResult:
    """One shot, start to finish: its takes, then the choice. The unit of work of every executor."""
    records, clips, conditioned = make_takes(plan, index, model, cache, settings, previous)
    return choose_take(plan, index, records, clips, conditioned, settings, previous)


def generate_shots(
    plan: ShotPlan,
    model: VideoModel,
    cache: TakeCache,
    *,
    takes: int = 1,
    pick: dict[int, int] | None = None,
    only: set[int] | None = None,
    music=None,
    scorer=None,
    on_shot=None,
    on_step=None,
) -> list[ShotResult]:
    """Generate (or fetch from the cache) every shot's takes and choose one per shot, in order, here.

    pick[i] = k forces take k of shot i; `only` regenerates just those shots
    (their cached takes are bypassed; other shots come from the cache).
    `scorer(frames, previous_last_frame, shot) -> (score, parts)` ranks takes.
    This is the sequential reference; storyreel.executor runs the same
    per-shot function (generate_shot) in a pool or on a Ray cluster.
    """
    settings = ShotSettings(takes, dict(pick or {}), only, music, scorer, on_step)
    return run_in_order(plan, model, cache, settings, on_shot)


def run_in_order(plan: ShotPlan, model: VideoModel, cache: TakeCache, settings: ShotSettings, on_shot=None) -> list[ShotResult]:
    """Every shot in order in this thread; on_shot(i, chosen TakeRecord) after each."""
    results: list[ShotResult] = []
    for i in range(len(plan.shots)):
        res = generate_shot(plan, i, model, cache, settings, results[-1] if results else None)
        results.append(res)
        if on_shot is not None:
            on_shot(i, res.takes[res.chosen])
    return results
