"""Editing: frame-exact time resampling, sizing, what a shot shows, transitions, streaming assembly, colour."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from fakes import constant_take, index_take, make_music, make_plan, make_take
from storyreel.edit.assemble import assemble, crossfade_weight
from storyreel.edit.colour import histogram_distance, match_histograms
from storyreel.edit.view import ShotView, blend_at, fit_size, resample_positions
from storyreel.plan import CameraMove, Transition

# ---------------------------------------------------------------- time


@pytest.mark.parametrize("n_src", [1, 2, 16, 81])
@pytest.mark.parametrize("src_fps", [8.0, 16.0, 24.0, 30.0])
@pytest.mark.parametrize("n_out", [0, 1, 7, 48, 97, 500])
def test_resample_counts_are_exact_and_never_loop(n_src, src_fps, n_out):
    pos = resample_positions(n_src, src_fps, n_out, 24.0)
    assert len(pos) == n_out
    assert np.all(np.diff(pos) >= 0)  # monotone: never jumps back (no looping)
    assert n_out == 0 or (pos[0] == 0 and pos[-1] <= n_src - 1)


def test_resample_plays_at_natural_speed_when_the_take_is_long_enough():
    pos = resample_positions(81, 16.0, 24, 24.0)
    assert np.allclose(np.diff(pos), 16 / 24)


def test_resample_stretches_a_short_take_end_to_end():
    pos = resample_positions(16, 8.0, 96, 24.0)  # a 2 s take over a 4 s shot
    assert pos[0] == 0 and pos[-1] == pytest.approx(15)


def test_resampling_blends_linearly():
    take = index_take(3)
    out = np.stack([blend_at(take, p) for p in resample_positions(3, 24.0, 5, 24.0)])  # stretched: 0, .5, 1, 1.5, 2
    assert out.shape == (5, 8, 8, 3)
    assert [int(f[0, 0, 0]) for f in out] == [0, 5, 10, 15, 20]


def test_fit_size_cover_crops_and_scales():
    frame = make_take(1, 48, 80)[0]
    out = fit_size(frame, 90, 160, margin=1.5)
    assert out.shape == (135, 240, 3)
    assert fit_size(frame, 90, 160, margin=0.25).shape == (22, 40, 3)


# ---------------------------------------------------------------- assembly


def _crossfade_plan(frames: int, static=True):
    cams = [CameraMove("static")] * 2 if static else None
    return make_plan([24, 24], cameras=cams, transitions=[Transition(), Transition("crossfade", 1.0, frames)])


@pytest.mark.parametrize("frames", [5, 7, 8])
def test_crossfade_midpoint_is_the_average(frames):
    a, b = (200, 40, 10), (20, 100, 250)
    plan = _crossfade_plan(frames)
    out = list(assemble(plan, [constant_take(a), constant_take(b)], [8.0, 8.0]))
    assert len(out) == 48
    pre = frames // 2
    lo, hi = 24 - pre, 24 - pre + frames
    for g in (0, lo - 1):
        assert tuple(out[g][0, 0]) == a
    for g in (hi, 47):
        assert tuple(out[g][0, 0]) == b
    for k in range(frames):  # symmetric linear ramp: frame k and frame f-1-k average to the midpoint
        mirror = out[lo + frames - 1 - k][0, 0].astype(int)
        assert np.all(np.abs(out[lo + k][0, 0].astype(int) + mirror - np.add(a, b)) <= 1)
    if frames % 2:
        mid = out[lo + frames // 2][0, 0].astype(int)
        assert np.all(np.abs(mid - np.add(a, b) / 2) <= 1)


def test_zoom_through_blends_two_zoomed_shots():
    static = [CameraMove("static")] * 2
    takes = [make_take(16, seed=1), make_take(16, seed=2)]
    zoom = make_plan([24, 24], cameras=static, transitions=[Transition(), Transition("zoom_through", 1.0, 12)])
    fade = make_plan([24, 24], cameras=static, transitions=[Transition(), Transition("crossfade", 1.0, 12)])
    out, ref = list(assemble(zoom, takes, [8.0, 8.0])), list(assemble(fade, takes, [8.0, 8.0]))
    assert len(out) == 48
    for g in range(48):  # same overlaps, so identical outside the transition; zoomed inside it
        assert np.array_equal(out[g], ref[g]) == (g < 18 or g >= 30), g
    assert np.array_equal(out[18], list(assemble(zoom, takes, [8.0, 8.0]))[18])  # deterministic


def test_assemble_is_a_stream_of_exact_frames():
    moves = ["zoom_in", "pan_left", "shake", "dolly_zoom", "tilt_down", "zoom_out"]
    trans = [
        Transition(),
        Transition("crossfade", 1, 6),
        Transition("zoom_through", 1, 9),
        Transition(),
        Transition("crossfade", 1, 100),
        Transition("zoom_through", 1, 3),
    ]
    plan = make_plan(
        [13, 20, 9, 31, 17, 11], cameras=[CameraMove(m, 0.2, intensity=0.5) for m in moves], transitions=trans
    )
    takes = [make_take(16, seed=i) for i in range(6)]
    stream = assemble(plan, takes, [8.0] * 6, music=make_music(5.0))
    assert inspect.isgenerator(stream)
    n = 0
    for frame in stream:
        assert frame.shape == (90, 160, 3) and frame.dtype == np.uint8
        n += 1
    assert n == plan.frames


def test_assemble_accepts_native_sizes_larger_than_the_output():
    plan = make_plan([10, 10], cameras=[CameraMove("zoom_in", 0.3)] * 2)
    takes = [make_take(5, 480, 832), make_take(5, 96, 64)]  # wide and portrait takes
    assert sum(1 for _ in assemble(plan, takes, [16.0, 8.0])) == 20


def test_transition_overlaps_are_clamped_so_they_never_overlap():
    plan = make_plan(
        [10, 6, 10],
        transitions=[Transition("crossfade", 1, 8), Transition("crossfade", 1, 50), Transition("crossfade", 1, 50)],
    )
    ov = plan.cut.overlaps
    assert ov[0].kind == "cut"  # nothing before the first shot
    assert ov[1].frames == 6 and ov[2].frames == 6
    assert ov[1].post + ov[2].pre <= plan.shots[1].frames


def test_assemble_rejects_mismatched_inputs():
    plan = make_plan([10, 10])
    with pytest.raises(ValueError, match="takes"):
        list(assemble(plan, [make_take(4)], [8.0]))
    plan.shots[1].start_frame = 11
    with pytest.raises(ValueError, match="continue"):
        list(assemble(plan, [make_take(4)] * 2, [8.0] * 2))


def test_crossfade_weights_are_symmetric():
    for f in range(1, 12):
        w = [crossfade_weight(k, f) for k in range(f)]
        assert np.allclose(np.add(w, w[::-1]), 1.0) and 0 < w[0] < w[-1] < 1 or f == 1


# ---------------------------------------------------------------- colour


def test_match_histograms_moves_a_shot_towards_the_reference():
    rng = np.random.default_rng(0)
    shot = make_take(4, seed=1)
    ref = np.clip(make_take(1, seed=5)[0].astype(int) + rng.integers(-20, 20, (48, 80, 3)), 0, 255).astype(np.uint8)
    before = histogram_distance(shot[0], ref)
    graded = match_histograms(shot, ref, strength=1.0)
    assert graded.shape == shot.shape and graded.dtype == np.uint8
    assert histogram_distance(graded[0], ref) < 0.5 * before
    half = histogram_distance(match_histograms(shot, ref, strength=0.5)[0], ref)
    assert histogram_distance(graded[0], ref) <= half <= before
    assert np.array_equal(match_histograms(shot, ref, strength=0.0), shot)
    assert match_histograms(shot[0], ref).shape == shot[0].shape


def test_histogram_distance_range():
    a, b = constant_take((0, 0, 0), 1)[0], constant_take((255, 255, 255), 1)[0]
    assert histogram_distance(a, a) == 0.0
    assert histogram_distance(a, b) == pytest.approx(1.0)


def test_a_view_shows_its_take_over_the_span_the_cut_gives_it():
    plan = make_plan([24, 24], cameras=[CameraMove("static")] * 2,
                     transitions=[Transition(), Transition("crossfade", 1.0, 8)])
    view = ShotView(plan, 0, index_take(16, 48, 80), 8.0)
    assert view.span == plan.cut.span(0) == (0, 28)  # 4 frames past the cut: half the crossfade
    assert view.frame_at(0).shape == (90, 160, 3) and view.frame_at(0, native=True).shape == (48, 80, 3)
    assert int(view.frame_at(27, native=True)[0, 0, 0]) == 10 * 9  # natural speed: frame 27 * 8/24 = 9
    with pytest.raises(ValueError, match="outside shot 0"):
        view.frame_at(28)
