"""Shot generation: native frame counts, extension chaining, continuity hand-off, takes, pick and only."""

import numpy as np
import pytest

from helpers_media import make_plan
from storyreel import render
from storyreel.cache import TakeCache
from storyreel.models.base import Clip, NativeFormat
from storyreel.plan import CameraMove, Transition


class RecordingModel:
    """A test double: frames encode (seed, frame index); every request is recorded."""

    name = "recording"
    capabilities = frozenset({"t2v", "i2v", "extend", "connect"})
    native = NativeFormat(fps=8.0, frames=16, height=48, width=80, size_multiple=16, frame_rule=(2, 0))

    def __init__(self):
        self.requests = []

    def identity(self):
        return "recording:1"

    def generate(self, req, progress=None):
        self.requests.append(req)
        frames = np.zeros((req.frames, req.height, req.width, 3), np.uint8)
        frames[..., 0] = (req.seed % 200)
        frames[..., 1] = np.arange(req.frames)[:, None, None] * 8
        if req.first_frames is not None:
            frames[: len(req.first_frames)] = req.first_frames
        return Clip(frames, self.native.fps, req, {"model": self.name})


def _plan(n_shots=3, frames=48, continuous=False, move="zoom_in"):
    cams = [CameraMove(move=move, amount=0.2, continuous=continuous) for _ in range(n_shots)]
    p = make_plan([frames] * n_shots, cameras=cams, width=160, height=90)
    return p


def test_every_shot_gets_enough_native_frames_by_extension(tmp_path):
    model = RecordingModel()
    plan = _plan(frames=96)  # 4 s per shot at 24 fps -> 33 native frames at 8 fps
    res = render.generate_shots(plan, model, TakeCache(tmp_path))
    for r in res:
        assert len(r.clip.frames) >= 96 / 24 * 8
    # 16 + 12 + 12 frames: three generations per shot, the later ones conditioned on 4 frames
    assert len(model.requests) == 9
    assert [len(q.first_frames) if q.first_frames is not None else 0 for q in model.requests[:3]] == [0, 4, 4]


def test_continuous_camera_starts_each_shot_from_the_previous_pushed_in_last_frame(tmp_path):
    model = RecordingModel()
    plan = _plan(continuous=True)
    res = render.generate_shots(plan, model, TakeCache(tmp_path))
    assert not res[0].conditioned_on_previous and res[1].conditioned_on_previous
    first_req_shot1 = next(q for q in model.requests if q.prompt == plan.shots[1].prompt)
    expected = render.handoff_frame(plan, 0, res[0].clip.frames, fps=res[0].clip.fps)
    assert np.array_equal(first_req_shot1.first_frames[0], expected)


def test_backend_without_conditioning_falls_back_to_zoom_through_and_says_so():
    model = RecordingModel()
    model.capabilities = frozenset({"t2v", "extend"})
    plan = render.apply_conditioning_fallbacks(_plan(continuous=True), model)
    assert all(s.transition.kind == "zoom_through" for s in plan.shots[1:])
    assert any("zoom-through" in n for n in plan.shots[1].notes)


def test_second_render_comes_entirely_from_the_cache(tmp_path):
    plan = _plan()
    first = RecordingModel()
    a = render.generate_shots(plan, first, TakeCache(tmp_path))
    second = RecordingModel()
    cache = TakeCache(tmp_path)
    b = render.generate_shots(plan, second, cache)
    assert second.requests == [] and cache.hits == 3
    assert all(np.array_equal(x.clip.frames, y.clip.frames) for x, y in zip(a, b))


def test_changing_one_prompt_regenerates_that_shot_and_its_continuous_dependants_only(tmp_path):
    plan = _plan(n_shots=4, continuous=False)
    render.generate_shots(plan, RecordingModel(), TakeCache(tmp_path))
    plan.shots[2].prompt = "something else"
    model = RecordingModel()
    render.generate_shots(plan, model, TakeCache(tmp_path))
    assert {q.prompt for q in model.requests} == {"something else"}


def test_takes_are_scored_and_the_best_kept_and_pick_overrides(tmp_path):
    plan = _plan(n_shots=2)
    scorer = lambda frames, prev, shot: (float(frames[0, 0, 0, 0]), {})  # noqa: E731 - prefers higher red
    res = render.generate_shots(plan, RecordingModel(), TakeCache(tmp_path), takes=3, scorer=scorer)
    for r in res:
        assert len(r.takes) == 3
        assert r.chosen == int(np.argmax([t.score for t in r.takes]))
    res = render.generate_shots(plan, RecordingModel(), TakeCache(tmp_path), takes=3, scorer=scorer, pick={1: 0})
    assert res[1].chosen == 0


def test_only_regenerates_just_those_shots(tmp_path):
    plan = _plan(n_shots=3)
    render.generate_shots(plan, RecordingModel(), TakeCache(tmp_path))
    model = RecordingModel()
    render.generate_shots(plan, model, TakeCache(tmp_path), only={1})
    assert {q.prompt for q in model.requests} == {plan.shots[1].prompt}
