"""temporal_smooth: an edge that shimmers from frame to frame is averaged along the motion; the motion, a cut
and held frames stay."""

import numpy as np

from storyreel.eval.temporal import warp_error
from storyreel.models.builtin.temporal_smooth import temporal_smooth


def _disc_clip(frames: int = 16, wobble: float = 1.5) -> tuple[np.ndarray, list[float]]:
    """A red disc moving right 2 px a frame on a blue sky; its radius wobbles by ±wobble px each frame and
    every pixel carries a little noise, as the U-Net redraws an edge. Returns the clip and the true centres."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:48, 0:80]
    video, centres = np.zeros((frames, 48, 80, 3)), []
    for t in range(frames):
        cx = 20.0 + 2 * t
        r = 9.0 + (wobble if t % 2 else -wobble)
        inside = (yy - 24) ** 2 + (xx - cx) ** 2 <= r * r
        video[t] = np.where(inside[..., None], [220, 40, 40], [70, 120, 220]) + rng.normal(0, 3, (48, 80, 3))
        centres.append(cx)
    return np.clip(np.rint(video), 0, 255).astype(np.uint8), centres


def _centre_x(frame: np.ndarray) -> float:
    red = (frame[..., 0].astype(int) - frame[..., 2].astype(int)) > 0
    return float(np.mean(np.nonzero(red)[1]))


def _ghost_share(video: np.ndarray) -> float:
    """Share of pixels that are neither disc nor sky: the smear a plain temporal average leaves (5.6 % here)."""
    v = video.astype(float)
    far = lambda c: np.linalg.norm(v - c, axis=-1) > 60  # noqa: E731
    return float((far([220, 40, 40]) & far([70, 120, 220])).mean())


def test_a_shimmering_edge_is_averaged_away_and_the_motion_kept():
    clip, centres = _disc_clip()
    out = temporal_smooth(clip)
    assert out.shape == clip.shape and out.dtype == np.uint8
    assert warp_error(out) < 0.6 * warp_error(clip)
    for t in (0, 7, 15):  # the disc is where it was: smoothing follows the motion instead of smearing it
        assert abs(_centre_x(out[t]) - centres[t]) < 0.75
    assert _ghost_share(out) < 0.01  # and no smear: frames that disagree are not averaged


def test_a_cut_is_not_blended_across():
    a, _ = _disc_clip(8)
    b = np.full_like(a, 30)  # another scene: a dark frame the flow cannot match
    clip = np.concatenate([a, b])
    out = temporal_smooth(clip)
    assert np.abs(out[7].astype(int) - a[7].astype(int)).mean() < 3  # the last shot frame keeps its picture
    assert np.abs(out[8].astype(int) - 30).mean() < 3


def test_held_frames_stay_exact_and_short_clips_pass_through():
    clip, _ = _disc_clip()
    hold = np.zeros(len(clip))
    hold[:3] = 1.0
    out = temporal_smooth(clip, hold=hold)
    assert np.array_equal(out[:3], clip[:3]) and not np.array_equal(out[3:], clip[3:])
    one = clip[:1]
    assert temporal_smooth(one) is one
