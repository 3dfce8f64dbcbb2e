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
from .models import chain
from .models.base import Clip, GenerationRequest, VideoModel
from .plan import ShotPlan, Transition

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


def handoff_frame(plan: ShotPlan, prev_index: int, prev_frames: np.ndarray, music=None) -> np.ndarray:
    """The previous shot's last frame as the camera last saw it, at native size (H, W, 3).

    This is what the next shot starts from: rendering the camera's final
    window onto a native-size frame means the next shot's first frame shows
    exactly what the previous shot's last frame showed.
    """
    win = camera.shot_windows(plan, prev_index, music)[-1]
    h, w = prev_frames.shape[1:3]
    return camera.render(np.ascontiguousarray(prev_frames[-1]), win, h, w)


def apply_conditioning_fallbacks(plan: ShotPlan, model: VideoModel) -> ShotPlan:
    """Continuous camera on a backend without image conditioning: zoom-through transitions instead, noted."""
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
    previous: ShotResult | None = None,
) -> tuple[list[TakeRecord], list[Clip], bool]:
    """Generate (or fetch from the cache) every take of shot `index`: (records, clips, conditioned).

    `previous` (shot index-1's result) is needed only when the shot is
    conditioned on it; each take is in the cache before the next starts.
    """
    shot = plan.shots[index]
    n_native = native_frames_needed(plan, index, model, edit.transition_overlaps(plan))
    h, w = native_size(plan, model)
    base = GenerationRequest(
        prompt=shot.prompt, seed=shot.seed, height=h, width=w,
        frames=min(model.native.frames, n_native) if "extend" in model.capabilities else n_native,
    )
    conditioned = conditioned_on_previous(plan, index, model)
    if conditioned:
        if previous is None:
            raise ValueError(f"shot {index} is conditioned on shot {index - 1}, whose result was not given")
        base = replace(base, first_frames=handoff_frame(plan, index - 1, previous.clip.frames, settings.music)[None])
    records, clips = [], []
    for k in range(settings.n_takes(index)):
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
