"""Camera moves: windows stay inside the source, rates are continuous across cuts, rendering is exact."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fakes import make_music, make_plan

from storyreel.edit import camera
from storyreel.edit.camera import EASINGS, MOVES, Window, render, shot_windows
from storyreel.plan import CameraMove


@pytest.mark.parametrize("move", MOVES)
def test_windows_always_inside_source(move):
    """Every move × easing × amount × intensity, over plain and transition-extended spans."""
    music = make_music(12.0)
    for easing in EASINGS:
        for amount in (0.0, 0.05, 0.25, 1.0):
            for intensity in (0.0, 1.0):
                for continuous in (False, True):
                    cam = CameraMove(move, amount, easing, continuous, intensity)
                    plan = make_plan([30, 47, 13, 60], cameras=[cam] * 4)
                    for i, shot in enumerate(plan.shots):
                        for span in (None, (shot.start_frame - 6, shot.end_frame + 7)):
                            wins = shot_windows(plan, i, music, span)
                            expect = shot.frames if span is None else span[1] - span[0]
                            assert len(wins) == expect
                            assert all(w.inside() for w in wins), (move, easing, amount, intensity, i, span)


def test_zoom_rate_is_continuous_across_a_cut():
    """A storyboard-wide zoom_in changes log-scale by the same amount per frame on both sides of a cut."""
    amount, fps = 0.05, 24
    plan = make_plan([37, 50], fps=fps, cameras=[CameraMove("zoom_in", amount, continuous=True)] * 2)
    a, b = shot_windows(plan, 0), shot_windows(plan, 1)
    before = math.log(a[-1].zoom / a[-2].zoom)
    after = math.log(b[1].zoom / b[0].zoom)
    assert abs(before - after) < 1e-6
    assert abs(before - math.log1p(amount) / fps) < 1e-9
    assert a[0].zoom == pytest.approx(1.0) and b[0].zoom == pytest.approx(1.0)  # fresh source: scale restarts
    assert b[-1].zoom == pytest.approx((1 + amount) ** (49 / fps))


def test_eased_continuous_run_has_no_jump_at_the_cut():
    """With easing over a continuous run, the rate step at the cut is no bigger than within a shot."""
    cams = [CameraMove("zoom_in", 0.2, "ease_in_out", continuous=True)] * 3
    plan = make_plan([40, 40, 40], cameras=cams)
    rates = [np.diff(np.log([w.zoom for w in shot_windows(plan, i)])) for i in range(3)]
    step_in_shot = max(np.abs(np.diff(r)).max() for r in rates)
    for left, right in zip(rates, rates[1:]):
        # the boundary is two steps away in rate samples (last diff of A, first diff of B)
        assert abs(right[0] - left[-1]) <= 2 * step_in_shot + 1e-12


def test_audio_reactive_zoom_is_continuous_and_follows_energy():
    music = make_music(8.0, seed=3)
    cam = CameraMove("zoom_in", 0.1, continuous=True, intensity=1.0)
    plan = make_plan([48, 48], cameras=[cam, cam])
    rates = np.concatenate([np.diff(np.log([w.zoom for w in shot_windows(plan, i, music)])) for i in range(2)])
    assert rates.min() >= 0 and rates.max() > rates.min()  # it breathes with the music but never reverses
    quiet = shot_windows(make_plan([48, 48], cameras=[CameraMove("zoom_in", 0.1, continuous=True)] * 2), 0)
    assert len(quiet) == 48


def test_pan_and_tilt_directions():
    for move, axis, sign in (("pan_left", 0, -1), ("pan_right", 0, 1), ("tilt_up", 1, -1), ("tilt_down", 1, 1)):
        wins = shot_windows(make_plan([48], cameras=[CameraMove(move, 0.2)]), 0)
        first, last = (wins[0].cx, wins[0].cy), (wins[-1].cx, wins[-1].cy)
        assert sign * (last[axis] - first[axis]) > 0, move
        assert first[1 - axis] == pytest.approx(last[1 - axis])


def test_zoom_out_ends_on_the_whole_source():
    wins = shot_windows(make_plan([48], cameras=[CameraMove("zoom_out", 0.1)]), 0)
    assert wins[-1].zoom == pytest.approx(1.0) and wins[0].zoom > wins[-1].zoom


def test_shake_is_seeded_and_smooth():
    plan = make_plan([96, 96], cameras=[CameraMove("shake", 0.25)] * 2)
    a, a2, b = shot_windows(plan, 0), shot_windows(plan, 0), shot_windows(plan, 1)
    assert a == a2
    assert [w.cx for w in a] != [w.cx for w in b]  # different seeds
    path = np.array([w.cx for w in a])
    assert np.ptp(path) > 0.005  # visible
    assert np.abs(np.diff(path)).max() < 0.02  # smooth: under 2 % of the frame per frame ...
    assert np.abs(np.diff(path, 2)).max() < 0.004  # ... and no sudden changes of direction


def test_dolly_zoom_holds_the_centre_while_the_surround_zooms():
    wins = shot_windows(make_plan([48], cameras=[CameraMove("dolly_zoom", 0.2)]), 0)
    assert wins[-1].zoom > wins[0].zoom
    assert len({w.inner_zoom for w in wins}) == 1 and wins[0].inner_zoom >= 1


def test_unknown_move_is_rejected():
    with pytest.raises(ValueError, match="camera move"):
        shot_windows(make_plan([10], cameras=[CameraMove("barrel_roll")]), 0)


def test_render_identity_is_exact():
    rng = np.random.default_rng(0)
    src = rng.integers(0, 256, size=(90, 160, 3), dtype=np.uint8)
    assert np.array_equal(render(src, Window(), 90, 160), src)


def test_render_never_samples_outside_the_source():
    """A flat source renders flat for any inside window: no black edges even at the extremes."""
    src = np.full((48, 80, 3), 137, dtype=np.uint8)
    rng = np.random.default_rng(1)
    for _ in range(50):
        zoom = float(rng.uniform(1, 5))
        half = 0.5 / zoom
        win = Window(
            float(rng.choice([half, 1 - half, rng.uniform(half, 1 - half)])), float(rng.uniform(half, 1 - half)), zoom
        )
        win = Window(win.cx, win.cy, zoom, float(rng.choice([0.0, zoom])))
        assert win.inside()
        out = render(src, win, 90, 160)
        assert out.min() == 137 and out.max() == 137


def test_render_crops_to_output_aspect_and_zooms_about_the_centre():
    src = np.zeros((100, 100, 3), dtype=np.uint8)
    src[:, 50:] = 255  # right half white
    out = render(src, Window(zoom=2.0), 90, 160)
    assert out.shape == (90, 160, 3)
    assert out[:, :70].max() < 10 and out[:, 90:].min() > 245


def test_cover_region():
    assert camera.cover_region(48, 80, 720, 1280) == pytest.approx((0.0, 1.5, 80.0, 45.0))  # 5:3 source, 16:9 out
    assert camera.cover_region(48, 100, 90, 160) == pytest.approx((7.333333, 0.0, 85.333333, 48.0))
    assert camera.cover_region(100, 100, 90, 160) == pytest.approx((0.0, 21.875, 100.0, 56.25))
