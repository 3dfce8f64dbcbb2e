"""Given frames come back exactly, and a jump out of them (another scene) becomes a dissolve."""

import numpy as np

from storyreel.models.builtin.handoff import frame_steps, given_weights, is_jump, join_given


def _drift(t: int, start: float, seed: int = 0) -> np.ndarray:
    """(t, 8, 10, 3) frames that brighten by 2 levels a frame from `start`, with a little noise."""
    rng = np.random.default_rng(seed)
    base = start + 2.0 * np.arange(t)[:, None, None, None] + rng.normal(0, 0.5, (t, 8, 10, 3))
    return np.clip(base, 0, 255).astype(np.uint8)


def test_a_step_is_a_jump_only_when_large_in_levels_and_against_the_clip():
    steps = np.full(10, 2.0)
    assert is_jump(30.0, steps) and not is_jump(3.0, steps)
    assert not is_jump(7.0, np.full(10, 1.0))  # 7x the clip's steps, but under JUMP_LEVELS
    assert not is_jump(20.0, np.full(10, 12.0))  # large, but the clip itself moves that much


def test_given_frames_are_shown_exactly_and_the_round_trip_error_fades():
    gen = _drift(16, 100)  # the model's decode of the given frame reads 100; the given one is 106
    given = np.full((1, 8, 10, 3), 106, np.uint8)
    out, info = join_given(gen, given, None, fps=8.0)
    assert np.array_equal(out[0], given[0]) and info["dissolve_in"] == 0
    assert np.abs(frame_steps(out)).max() < 4  # no step out of the given frame: the offset is carried in
    assert np.array_equal(out[9:], gen[9:])  # after about a second the generation is untouched


def test_a_jump_out_of_the_given_frame_dissolves_from_it():
    gen = _drift(16, 40)
    gen[1:] = _drift(15, 200, seed=1)  # frame 0 reproduces the given frame, then another scene
    out, info = join_given(gen, gen[:1], None, fps=8.0)
    assert info["dissolve_in"] == 8
    steps = frame_steps(out)
    assert frame_steps(gen)[0] > 150 and steps.max() < 40  # the 160-level jump is spread over the dissolve
    assert np.all(np.diff(out[:10].astype(float).mean(axis=(1, 2, 3))) > 0)  # a steady cross-fade towards it
    assert np.array_equal(out[9:], gen[9:])


def test_a_jump_into_the_last_frames_dissolves_into_them():
    gen = _drift(16, 40)
    gen[-1] = 230  # connect: the model lands on the given last frame from another scene
    out, info = join_given(gen, None, gen[-1:], fps=8.0)
    assert info["dissolve_out"] == 8 and info["dissolve_in"] == 0
    assert frame_steps(out).max() < 40 and np.array_equal(out[:7], gen[:7])


def test_short_clips_share_their_free_frames_between_both_ends():
    gen = _drift(6, 40)
    gen[1:-1] = 200
    out, info = join_given(gen, gen[:1], gen[-1:], fps=8.0)
    assert info == {"dissolve_in": 2, "dissolve_out": 2}
    assert np.array_equal(out[0], gen[0]) and np.array_equal(out[-1], gen[-1])


def test_given_weights_hold_the_given_frames_and_fade_beside_them():
    w = given_weights(32, 1, 1, 8.0)
    assert w[0] == 1.0 and w[-1] == 1.0
    assert np.all(np.diff(w[1:9]) < 0) and np.all(w[10:22] == 0.0) and np.all(np.diff(w[23:31]) > 0)
    assert not given_weights(16, 0, 0, 8.0).any()
