"""Shot generation: native frame counts, extension chaining, continuity hand-off, takes, pick and only."""

import numpy as np

from fakes import RecordingModel, make_plan
from storyreel.plan import CameraMove
from storyreel.render.cache import TakeCache
from storyreel.render.continuity import handoff_frame
from storyreel.render.takes import ShotSettings, run_in_order


def _plan(n_shots=3, frames=48, continuous=False, move="zoom_in"):
    cams = [CameraMove(move=move, amount=0.2, continuous=continuous) for _ in range(n_shots)]
    return make_plan([frames] * n_shots, cameras=cams, width=160, height=90)


def generate(plan, model, cache, **settings):
    """Every shot in order: the sequential reference every executor matches."""
    return run_in_order(plan, model, cache, ShotSettings(**settings))


def test_every_shot_gets_enough_native_frames_by_extension(tmp_path):
    model = RecordingModel()
    plan = _plan(frames=96)  # 4 s per shot at 24 fps -> 33 native frames at 8 fps
    res = generate(plan, model, TakeCache(tmp_path))
    for r in res:
        assert len(r.clip.frames) >= 96 / 24 * 8
    # 16 + 12 + 12 frames: three generations per shot, the later ones conditioned on 4 frames
    assert len(model.requests) == 9
    assert [len(q.first_frames) if q.first_frames is not None else 0 for q in model.requests[:3]] == [0, 4, 4]


def test_continuous_camera_starts_each_shot_from_the_previous_pushed_in_last_frame(tmp_path):
    model = RecordingModel()
    plan = _plan(continuous=True)
    res = generate(plan, model, TakeCache(tmp_path))
    assert not res[0].conditioned_on_previous and res[1].conditioned_on_previous
    first_req_shot1 = next(q for q in model.requests if q.prompt == plan.shots[1].prompt)
    expected = handoff_frame(plan, 0, res[0].clip.frames, res[0].clip.fps)
    assert np.array_equal(first_req_shot1.first_frames[0], expected)


def test_a_backend_without_conditioning_is_not_conditioned(tmp_path):
    """Planning made its continuous cuts zoom-throughs (tests/plan); generation never hands it a frame."""
    model = RecordingModel(capabilities={"t2v", "extend"})
    res = generate(_plan(continuous=True), model, TakeCache(tmp_path))
    first_of_each = {q.prompt: q for q in reversed(model.requests)}  # a shot's first generation (later: extensions)
    assert not any(r.conditioned_on_previous for r in res) and all(q.first_frames is None for q in first_of_each.values())


def test_second_render_comes_entirely_from_the_cache(tmp_path):
    plan = _plan()
    a = generate(plan, RecordingModel(), TakeCache(tmp_path))
    second = RecordingModel()
    cache = TakeCache(tmp_path)
    b = generate(plan, second, cache)
    assert second.requests == [] and cache.hits == 3
    assert all(np.array_equal(x.clip.frames, y.clip.frames) for x, y in zip(a, b))


def test_changing_one_prompt_regenerates_that_shot_and_its_continuous_dependants_only(tmp_path):
    plan = _plan(n_shots=4, continuous=False)
    generate(plan, RecordingModel(), TakeCache(tmp_path))
    plan.shots[2].prompt = "something else"
    model = RecordingModel()
    generate(plan, model, TakeCache(tmp_path))
    assert {q.prompt for q in model.requests} == {"something else"}


def test_takes_are_scored_and_the_best_kept_and_pick_overrides(tmp_path):
    plan = _plan(n_shots=2)
    scorer = lambda frames, prev, shot, model: (float(frames[0, 0, 0, 0]), {})  # noqa: E731 - prefers higher red
    res = generate(plan, RecordingModel(), TakeCache(tmp_path), takes=3, scorer=scorer)
    for r in res:
        assert len(r.takes) == 3
        assert r.chosen == int(np.argmax([t.score for t in r.takes]))
    res = generate(plan, RecordingModel(), TakeCache(tmp_path), takes=3, scorer=scorer, pick={1: 0})
    assert res[1].chosen == 0


def test_only_regenerates_just_those_shots(tmp_path):
    plan = _plan(n_shots=3)
    generate(plan, RecordingModel(), TakeCache(tmp_path))
    model = RecordingModel()
    generate(plan, model, TakeCache(tmp_path), only={1})
    assert {q.prompt for q in model.requests} == {plan.shots[1].prompt}
