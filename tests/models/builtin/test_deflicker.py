"""deflicker: the frame-to-frame wobble of a clip's mean colour goes, its motion and its linear trend stay."""

import numpy as np

from storyreel.eval.temporal import flicker
from storyreel.models.builtin.deflicker import deflicker


def _clip(jitter: float, ramp: float = 0.0, frames: int = 24) -> np.ndarray:
    """A grey clip with a white square moving right; each frame's brightness off by ±jitter, plus a ramp."""
    rng = np.random.default_rng(0)
    video = np.full((frames, 48, 80, 3), 100.0)
    for t in range(frames):
        video[t, 18:30, 4 + 2 * t: 16 + 2 * t] = 230.0
        video[t] += rng.choice([-jitter, jitter]) + ramp * t
    return np.clip(np.rint(video), 0, 255).astype(np.uint8)


def test_a_wobbling_clip_loses_most_of_its_flicker_and_keeps_its_motion():
    clip = _clip(jitter=4.0)
    out = deflicker(clip)
    assert flicker(out) < flicker(clip) / 4
    for t in (0, 11, 23):  # the square is where it was, still the brightest thing in the frame
        cols = np.flatnonzero(out[t, 24, :, 0] > 180)
        assert cols.min() == 4 + 2 * t and cols.max() == 15 + 2 * t


def test_a_steady_fade_is_kept():
    clip = _clip(jitter=0.0, ramp=2.0)
    out = deflicker(clip)
    means = lambda v: v.reshape(len(v), -1, 3).mean(1)  # noqa: E731
    assert np.abs(means(out) - means(clip)).max() < 0.6


def test_short_clips_are_returned_as_they_are():
    clip = _clip(jitter=4.0, frames=2)
    assert deflicker(clip) is clip


def test_held_frames_are_left_exactly_as_they_are():
    clip = _clip(jitter=4.0)
    hold = np.zeros(len(clip))
    hold[:2] = 1.0
    out = deflicker(clip, hold=hold)
    assert np.array_equal(out[:2], clip[:2]) and not np.array_equal(out[5:], clip[5:])
