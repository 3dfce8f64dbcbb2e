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
    """Generate (or fetch from the cache) every shot's takes and choose one per shot.

    pick[i] = k forces take k of shot i; `only` regenerates just those shots
    (their cached takes are bypassed; other shots come from the cache).
    `scorer(frames, previous_last_frame, shot) -> (score, parts)` ranks takes.
    """
    pick = pick or {}
    overlaps = edit.transition_overlaps(plan)
    h, w = native_size(plan, model)
    results: list[ShotResult] = []
    for i, shot in enumerate(plan.shots):
        n_native = native_frames_needed(plan, i, model, overlaps)
        base = GenerationRequest(
            prompt=shot.prompt, seed=shot.seed, height=h, width=w,
            frames=min(model.native.frames, n_native) if "extend" in model.capabilities else n_native,
        )
        conditioned = False
        prev_last = results[-1].clip.frames[-1] if results else None
        if i > 0 and shot.camera.continuous and "i2v" in model.capabilities:
            base = replace(base, first_frames=handoff_frame(plan, i - 1, results[-1].clip.frames, music)[None])
            conditioned = True
        n_takes = max(takes, pick.get(i, 0) + 1)
        records, clips = [], []
        for k in range(n_takes):
            req = replace(base, seed=shot.seed + 1_000_003 * k)
            key = take_key(model.identity(), req, {"n_frames": n_native, "overlap": CHAIN_OVERLAP})
            clip = None if (only is not None and i in only) else cache.get(key)
            cached = clip is not None
            if clip is None:
                clip = chain.generate_long(model, req, n_native, overlap=CHAIN_OVERLAP, progress=on_step)
                cache.put(key, clip, {"shot": i, "take": k, "prompt": req.prompt, "seed": req.seed})
            rec = TakeRecord(k, req.seed, key, cached=cached)
            if scorer is not None and n_takes > 1:
                rec.score, rec.scores = scorer(clip.frames, prev_last, shot)
            records.append(rec)
            clips.append(clip)
        if i in pick:
            chosen = pick[i]
        elif scorer is not None and n_takes > 1:
            chosen = max(range(n_takes), key=lambda k: records[k].score)
        else:
            chosen = 0
        results.append(ShotResult(i, clips[chosen], chosen, records, conditioned))
        if on_shot is not None:
            on_shot(i, records[chosen])
    return results
