"""ShotPlan -> one take per shot: cache look-up, continuity chaining, takes, the choice.

Each shot needs enough native frames to cover its span (plan.cut: its frames
plus the transition overlaps on either side) at the model's own fps; longer
than one generation is made by extension (models.chain). A shot conditioned on
its predecessor (render.continuity) starts from the frame the viewer would
have seen next. Several takes per shot are scored (render.scoring) and the
best, or the one forced with --pick, is kept.

Every finished take goes to the content-addressed cache before the next
starts, so a killed render resumes where it stopped. `generate_shot` is the
unit of work of every executor; `run_in_order` is the sequential reference.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import StoryreelError
from ..models import chain
from ..models.base import Clip, GenerationRequest, VideoModel
from ..plan import Shot, ShotPlan
from . import continuity
from .cache import TakeCache, take_key

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


def native_frames_needed(plan: ShotPlan, index: int, model: VideoModel) -> int:
    """Native frames covering the shot's span (with transition overlaps) at the model's fps."""
    a, b = plan.cut.span(index)
    seconds = (b - a) / plan.fps
    n = math.ceil(seconds * model.native.fps) + 1
    return model.native.valid_frames(max(n, 2))


def native_size(plan: ShotPlan, model: VideoModel) -> tuple[int, int]:
    """(height, width) to generate at: the backend's choice for the output size."""
    return model.size_for(plan.width, plan.height)


def moves_in_generation(plan: ShotPlan, model: VideoModel) -> tuple[ShotPlan, dict[int, str]]:
    """(the plan with a static camera on every shot whose move the backend makes itself, {index: that move}).

    The edit then leaves those shots' frames where they are (it would otherwise move the camera a second
    time), and the continuity hand-off reads the frames as the viewer will see them.
    """
    moves = {s.index: s.camera.move for s in plan.shots
             if s.camera.move != "static" and model.camera_lora_for(s.camera.move) is not None}
    if not moves:
        return plan, {}
    shots = [replace(s, camera=replace(s.camera, move="static")) if s.index in moves else s for s in plan.shots]
    return replace(plan, shots=shots), moves


def character_image(plan: ShotPlan, shot: Shot) -> np.ndarray | None:
    """The reference image (H, W, 3) uint8 RGB of the first character the shot names that has one, else None.

    Passed as GenerationRequest.reference_image to every take of the shot (it
    is part of the cache key); backends without the "reference" capability
    (the built-in model among them) ignore it, and the plan says so.
    """
    for name in shot.characters:
        path = plan.characters.get(name, {}).get("image")
        if path:
            from PIL import Image  # deferred: only storyboards with character images read one

            try:
                with Image.open(path) as im:
                    return np.asarray(im.convert("RGB"))
            except OSError as e:
                raise StoryreelError(f"cannot read {name}'s reference image: {e}", file=path) from None
    return None


Scorer = Callable[[np.ndarray, "np.ndarray | None", Shot, VideoModel], "tuple[float, dict]"]
"""scorer(frames, previous shot's chosen last frame, shot, backend) -> (score, parts); render.scoring.score_take."""


OnShot = Callable[[int, TakeRecord], None]  # on_shot(shot index, chosen take) after each shot


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
    scorer: Scorer | None = None
    on_step: Callable | None = None
    camera_moves: dict[int, str] = field(default_factory=dict)  # shot index -> move the backend makes itself

    def n_takes(self, index: int) -> int:
        return max(self.takes, self.pick.get(index, 0) + 1)

    def needs_previous_to_choose(self, index: int) -> bool:
        """Whether choosing among shot `index`'s takes looks at the previous shot's chosen last frame (scoring)."""
        return index > 0 and self.scorer is not None and self.n_takes(index) > 1


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
    n_native = native_frames_needed(plan, index, model)
    h, w = native_size(plan, model)
    base = GenerationRequest(
        prompt=shot.prompt, seed=shot.seed, height=h, width=w,
        frames=min(model.native.frames, n_native) if "extend" in model.capabilities else n_native,
        reference_image=character_image(plan, shot),
    )
    if index in settings.camera_moves:  # the backend makes this move itself (a camera LoRA)
        base = replace(base, camera=settings.camera_moves[index])
    conditioned = continuity.conditioned_on_previous(plan, index, model)
    if conditioned:
        if previous is None:
            raise ValueError(f"shot {index} is conditioned on shot {index - 1}, whose result was not given")
        first = continuity.handoff_frame(plan, index - 1, previous.clip.frames, previous.clip.fps, settings.music)
        base = replace(base, first_frames=first[None])
    records, clips = [], []
    for k in range(settings.n_takes(index)) if which is None else which:
        req = replace(base, seed=shot.seed + 1_000_003 * k)
        key = take_key(model.identity(), req, {"n_frames": n_native, "overlap": CHAIN_OVERLAP})
        clip = None if (settings.only is not None and index in settings.only) else cache.get(key)
        cached = clip is not None
        if clip is None:
            try:
                clip = chain.generate_long(model, req, n_native, overlap=CHAIN_OVERLAP, progress=settings.on_step)
            except StoryreelError as e:  # a refusal or a provider's failure: say which shot
                raise StoryreelError(f"shot {index + 1} (take {k + 1}): {e.message}", file=e.file, line=e.line,
                                     field=e.field) from None
            cache.put(key, clip, {"shot": index, "take": k, "prompt": req.prompt, "seed": req.seed})
        records.append(TakeRecord(k, req.seed, key, cached=cached))
        clips.append(clip)
    return records, clips, conditioned


def choose_take(
    plan: ShotPlan, index: int, model: VideoModel, records: list[TakeRecord], clips: list[Clip], conditioned: bool,
    settings: ShotSettings, previous: ShotResult | None = None,
) -> ShotResult:
    """Score the takes (against the previous shot's chosen last frame) and keep the forced or best one."""
    n_takes = len(clips)
    prev_last = previous.clip.frames[-1] if previous is not None else None
    if settings.scorer is not None and n_takes > 1:
        for rec, clip in zip(records, clips):
            rec.score, rec.scores = settings.scorer(clip.frames, prev_last, plan.shots[index], model)
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
    return choose_take(plan, index, model, records, clips, conditioned, settings, previous)


def run_in_order(plan: ShotPlan, model: VideoModel, cache: TakeCache, settings: ShotSettings, on_shot=None) -> list[ShotResult]:
    """Every shot in order in this thread; on_shot(i, chosen TakeRecord) after each."""
    results: list[ShotResult] = []
    for i in range(len(plan.shots)):
        res = generate_shot(plan, i, model, cache, settings, results[-1] if results else None)
        results.append(res)
        if on_shot is not None:
            on_shot(i, res.takes[res.chosen])
    return results
