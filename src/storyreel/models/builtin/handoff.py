"""Given frames shown as they are, and a dissolve from (or into) them where the model would jump.

A storyboard's continuous cut hands the next shot the previous shot's last
frame, and the next prompt often shows another scene (a new era, another
character). The layout-guided U-Net was trained on given frames from its own
caption's clip, so it reproduces such a frame and then draws the new prompt
from the very next frame on: a jump of 10-90 grey levels where its frames
otherwise change by 2-5, which the camera measured across the cut reads as a
restart. An editor would dissolve there, so the model does: where the step
out of the given frames is far above the clip's own steps, the given frame
(held, the camera still moves it in the edit) cross-fades into what was
generated over about a second. Without a jump, only the autoencoder round
trip's error is faded in (the camera read the round trip as a zoom of up to
0.045 log-scale at a cut).
"""

from __future__ import annotations

import numpy as np

# A step out of the given frames counts as a jump when it is both this many grey levels (0-255, mean absolute)
# and this many times the clip's median step. Measured on the v2 model (2026-12-03): a given frame of the prompt's
# own scene steps 4.7-5.8 levels into the generation (1.8x its median step, mostly the autoencoder's round trip);
# another object 10-11 levels (2.3-2.6x), another setting 69 (35x), another scene 93 (10x).
JUMP_LEVELS = 8.0
JUMP_RATIO = 2.0
DISSOLVE_SECONDS = 1.0


def frame_steps(frames: np.ndarray) -> np.ndarray:
    """Mean absolute change between consecutive frames (T-1,) in grey levels; frames (T, H, W, 3) uint8."""
    f = frames.astype(np.float32)
    return np.abs(np.diff(f, axis=0)).mean(axis=(1, 2, 3))


def is_jump(step: float, steps: np.ndarray) -> bool:
    """Whether `step` is a jump against the clip's other frame steps `steps`."""
    typical = float(np.median(steps)) if len(steps) else 0.0
    return step > JUMP_LEVELS and step > JUMP_RATIO * typical


def _ramp(n: int) -> np.ndarray:
    """n weights rising smoothly from near 0 to near 1 (smoothstep, both ends excluded)."""
    x = np.arange(1, n + 1, dtype=np.float32) / (n + 1)
    return x * x * (3 - 2 * x)


def _blend_in(gen: np.ndarray, given: np.ndarray, decoded: np.ndarray, weights: np.ndarray, jump: bool) -> np.ndarray:
    """Generated frames gen (n, H, W, 3) near a given frame: with weights (n,) from ~1 (beside it) to ~0.

    A jump dissolves from the held given frame; otherwise only the round trip's error (given minus the
    model's own decode of it) is carried in and fades, so the generated motion stays as it was.
    """
    g, w = gen.astype(np.float32), weights[:, None, None, None]
    given = given.astype(np.float32)[None]
    held = given if jump else g + (given - decoded.astype(np.float32)[None])
    return np.clip(np.rint(w * held + (1 - w) * g), 0, 255).astype(np.uint8)


def _blend_length(t: int, n_first: int, n_last: int, fps: float) -> int:
    """How many generated frames beside each given end are blended: about a second, at most half the free ones."""
    free = t - n_first - n_last
    return min(int(round(fps * DISSOLVE_SECONDS)), free // 2 if n_first and n_last else free)


def given_weights(t: int, n_first: int, n_last: int, fps: float) -> np.ndarray:
    """(t,) weights: 1 on the given frames, falling to 0 over the frames join_given blends beside them."""
    w = np.zeros(t, dtype=np.float32)
    n = _blend_length(t, n_first, n_last, fps)
    if n_first:
        w[:n_first] = 1.0
        if n > 0:
            w[n_first:n_first + n] = _ramp(n)[::-1]
    if n_last:
        w[t - n_last:] = 1.0
        if n > 0:
            w[t - n_last - n:t - n_last] = np.maximum(w[t - n_last - n:t - n_last], _ramp(n))
    return w


def join_given(frames: np.ndarray, first: np.ndarray | None, last: np.ndarray | None, fps: float) -> tuple[np.ndarray, dict]:
    """The generated frames (T, H, W, 3) uint8 made to start from `first` and end on `last` exactly.

    The model gives its given frames back through the autoencoder, a few levels off (and the camera
    measures that as a jump at a cut); so the given frames themselves are shown, and the frames beside
    them carry the difference, fading over about a second. Where the step out of the given frames is a
    jump (is_jump: they show another scene), the frames beside them dissolve from the given frame instead.
    Returns (frames, {"dissolve_in": n, "dissolve_out": n}): how many frames dissolved at each end.
    """
    t = len(frames)
    nf, nl = (0 if x is None else len(x) for x in (first, last))
    out = frames.copy()
    info = {"dissolve_in": 0, "dissolve_out": 0}
    steps = frame_steps(frames)  # steps[i]: frame i -> i + 1
    inner = steps[nf: t - nl - 1]  # the generated frames' own steps
    n = _blend_length(t, nf, nl, fps)
    w = given_weights(t, nf, nl, fps)  # the ramps beside each end never overlap (n <= half the free frames)
    if nf:
        out[:nf] = first
        if n > 0:
            jump = is_jump(float(steps[nf - 1]), inner)
            span = slice(nf, nf + n)
            out[span] = _blend_in(frames[span], first[-1], frames[nf - 1], w[span], jump)
            info["dissolve_in"] = n if jump else 0
    if nl:
        out[t - nl:] = last
        if n > 0:
            jump = is_jump(float(steps[t - nl - 1]), inner)
            span = slice(t - nl - n, t - nl)
            out[span] = _blend_in(out[span], last[0], frames[t - nl], w[span], jump)
            info["dissolve_out"] = n if jump else 0
    return out, info
