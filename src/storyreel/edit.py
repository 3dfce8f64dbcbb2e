"""Takes -> output frames: time resampling, sizing, camera moves, transitions, colour continuity.

`assemble` streams the finished video one output frame at a time (a 4-minute
1280×720 video is 16 GB raw, so nothing holds more than a shot's native
frames). For every shot it:

1. time-resamples the shot's native frames onto the output frames it covers
   (natural speed when the take is long enough, otherwise slowed down so the
   take exactly spans the shot; linear frame blending; never loops);
2. prepares the source frame (cover-crop to the output aspect; small sources
   get a cheap bicubic pre-upscale of at most 4× so the final bilinear warp
   magnifies less);
3. renders the camera window at output resolution (`camera.render`);
4. applies the transition into the shot, centred on its start boundary.

Transitions overlap the two shots: a transition of f frames into shot B at
boundary b covers output frames [b − f//2, b − f//2 + f). The outgoing shot A
is resampled over [A.start, b + (f − f//2)) and the incoming B over
[b − f//2, B.end), i.e. each shot's own take is stretched a little to supply
the overlap (no frozen frames, no borrowed footage). Transition lengths are
clamped so that neighbouring transitions never overlap, and a transition into
the first shot is a cut.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from . import camera
from .music import MusicMap
from .plan import ShotPlan

TRANSITIONS = ("cut", "crossfade", "zoom_through")
ZOOM_THROUGH_FACTOR = 4.0  # extra zoom at the far end of a zoom_through
MAX_PRESCALE = 4  # bicubic pre-upscale of small sources, at most this factor


# ---------------------------------------------------------------- time


def resample_positions(n_src: int, src_fps: float, n_out: int, out_fps: float) -> np.ndarray:
    """Source frame position (float, in source frames) for each of n_out output frames.

    Natural speed (src_fps/out_fps source frames per output frame) when the
    take covers the output; otherwise slowed so the first and last output
    frames land exactly on the first and last source frames. Positions never
    exceed n_src − 1: the take is never looped.
    """
    if n_src < 1 or n_out < 0:
        raise ValueError(f"cannot resample {n_src} source frames to {n_out}")
    if n_out == 0:
        return np.zeros(0)
    step = src_fps / out_fps
    if n_out > 1 and (n_out - 1) * step > n_src - 1:
        step = (n_src - 1) / (n_out - 1)
    return np.minimum(np.arange(n_out) * step, n_src - 1)


def blend_at(frames: np.ndarray, pos: float) -> np.ndarray:
    """The frame at fractional position `pos`: linear blend of its two neighbours, (H, W, 3) uint8."""
    i = int(math.floor(pos))
    w = pos - i
    if w < 1e-6 or i + 1 >= len(frames):
        return frames[min(i, len(frames) - 1)]
    if w > 1 - 1e-6:
        return frames[i + 1]
    return cv2.addWeighted(frames[i], 1.0 - w, frames[i + 1], w, 0.0)


def resample_clip(frames: np.ndarray, src_fps: float, n_out: int, out_fps: float) -> np.ndarray:
    """Time-resample (T, H, W, 3) uint8 frames to exactly n_out frames at out_fps (see `resample_positions`)."""
    pos = resample_positions(len(frames), src_fps, n_out, out_fps)
    if n_out == 0:
        return np.zeros((0, *frames.shape[1:]), dtype=np.uint8)
    return np.stack([blend_at(frames, p) for p in pos])  # (n_out, H, W, 3)


# ---------------------------------------------------------------- size


def fit_size(frame: np.ndarray, out_h: int, out_w: int, margin: float = 1.0) -> np.ndarray:
    """Cover-crop `frame` (H, W, 3) to the output aspect and resize it to (out_h×margin, out_w×margin).

    Bicubic when enlarging, area averaging when shrinking; returns the crop
    itself when no resize is needed.
    """
    x0, y0, cw, ch = camera.cover_region(frame.shape[0], frame.shape[1], out_h, out_w)
    xa, ya = int(round(x0)), int(round(y0))
    crop = frame[ya : ya + int(round(ch)), xa : xa + int(round(cw))]  # (ch, cw, 3)
    th, tw = max(1, int(round(out_h * margin))), max(1, int(round(out_w * margin)))
    if crop.shape[:2] == (th, tw):
        return crop
    interp = cv2.INTER_CUBIC if tw > crop.shape[1] else cv2.INTER_AREA
    return cv2.resize(np.ascontiguousarray(crop), (tw, th), interpolation=interp)


def source_margin(src_h: int, src_w: int, out_h: int, out_w: int, zoom: float) -> float | None:
    """The `fit_size` margin that prepares a source for a camera reaching `zoom`, or None to use it as is.

    Small sources are pre-upscaled (bicubic, at most MAX_PRESCALE×, never past
    the output size); sources far larger than the camera needs are shrunk to
    output size × zoom so the bilinear warp does not alias.
    """
    _, _, cw, _ = camera.cover_region(src_h, src_w, out_h, out_w)
    if cw < out_w:
        k = min(MAX_PRESCALE, out_w // max(1, int(cw)))
        return None if k <= 1 else k * cw / out_w
    if cw > 2 * out_w * zoom:
        return zoom
    return None


# ---------------------------------------------------------------- transitions


@dataclass(frozen=True)
class Overlap:
    """A transition into shot `index`: kind and frames before (pre) / after (post) its start boundary."""

    index: int
    kind: str
    pre: int
    post: int

    @property
    def frames(self) -> int:
        return self.pre + self.post

    def window(self, boundary: int) -> tuple[int, int]:
        """Global output frames [start, end) covered by the transition."""
        return boundary - self.pre, boundary + self.post


def transition_overlaps(plan: ShotPlan) -> list[Overlap]:
    """The effective transition into each shot, clamped so neighbouring transitions never overlap.

    A transition's frames are clamped to both neighbouring shots' lengths;
    with pre = f // 2 and post = f − pre, the post of one transition and the
    pre of the next then fit inside the shot between them.
    """
    out = []
    for i, shot in enumerate(plan.shots):
        kind, f = shot.transition.kind, int(shot.transition.frames)
        if kind not in TRANSITIONS:
            raise ValueError(f"shot {i}: unknown transition {kind!r}; expected one of {', '.join(TRANSITIONS)}")
        if i == 0 or kind == "cut" or f <= 0:
            out.append(Overlap(i, "cut", 0, 0))
            continue
        f = min(f, shot.frames, plan.shots[i - 1].frames)
        out.append(Overlap(i, kind, f // 2, f - f // 2))
    return out


def crossfade_weight(k: int, frames: int) -> float:
    """Weight of the incoming shot at frame k of a crossfade of `frames` frames: (k + ½) / frames."""
    return (k + 0.5) / frames


def zoom_through_params(k: int, frames: int) -> tuple[float, float, float]:
    """(outgoing extra zoom, incoming extra zoom, incoming weight) at frame k of a zoom_through.

    The camera pushes into the outgoing shot (1 → Z), the incoming shot emerges
    from a zoomed-in state (Z → 1), both at a constant log-zoom rate, and they
    dissolve in the middle third.
    """
    p = (k + 0.5) / frames
    t = float(np.clip((p - 1 / 3) * 3, 0.0, 1.0))
    return ZOOM_THROUGH_FACTOR**p, ZOOM_THROUGH_FACTOR ** (1 - p), t * t * (3 - 2 * t)


def blend(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    """(1 − w)·a + w·b for uint8 frames."""
    return cv2.addWeighted(a, 1.0 - w, b, w, 0.0)


# ---------------------------------------------------------------- one shot


class ShotRenderer:
    """Renders any output frame of one shot over its (transition-extended) span, on demand.

    Holds only the shot's native frames, the per-frame source positions and
    camera windows; each call does one small blend, one small resize and one
    warp at output size.
    """

    def __init__(
        self,
        plan: ShotPlan,
        index: int,
        frames: np.ndarray,
        fps: float,
        span: tuple[int, int],
        music: MusicMap | None = None,
        extra_zoom: float = 1.0,
    ):
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
            raise ValueError(f"shot {index}: expected (T, H, W, 3) uint8 frames, got {frames.shape} {frames.dtype}")
        self.plan, self.index, self.frames, self.span = plan, index, frames, span
        self.positions = resample_positions(len(frames), fps, span[1] - span[0], plan.fps)  # (n,)
        self.windows = camera.shot_windows(plan, index, music, span)  # n windows
        zoom = camera.max_zoom(self.windows) * extra_zoom
        self.margin = source_margin(frames.shape[1], frames.shape[2], plan.height, plan.width, zoom)

    def frame(self, g: int, extra_zoom: float = 1.0) -> np.ndarray:
        """Output frame (H, W, 3) uint8 of this shot at global frame g, optionally zoomed in further."""
        k = g - self.span[0]
        src = blend_at(self.frames, self.positions[k])  # (h, w, 3) native
        if self.margin is not None:
            src = fit_size(src, self.plan.height, self.plan.width, self.margin)  # (H·m, W·m, 3)
        win = self.windows[k] if extra_zoom == 1.0 else self.windows[k].zoomed(extra_zoom)
        return camera.render(src, win, self.plan.height, self.plan.width)


def _check_plan(plan: ShotPlan, shot_frames: list[np.ndarray], shot_fps: list[float]) -> None:
    """Shots must tile [0, plan.frames) exactly, one take and fps per shot."""
    if len(shot_frames) != len(plan.shots) or len(shot_fps) != len(plan.shots):
        raise ValueError(f"{len(plan.shots)} shots but {len(shot_frames)} takes and {len(shot_fps)} fps values")
    edge = 0
    for s in plan.shots:
        if s.start_frame != edge or s.end_frame <= s.start_frame:
            raise ValueError(f"shot {s.index}: frames [{s.start_frame}, {s.end_frame}) do not continue from {edge}")
        edge = s.end_frame
    if edge != plan.frames:
        raise ValueError(f"shots end at frame {edge} but the plan has {plan.frames} frames")


def assemble(
    plan: ShotPlan, shot_frames: list[np.ndarray], shot_fps: list[float], music: MusicMap | None = None
) -> Iterator[np.ndarray]:
    """Yield exactly plan.frames output frames (plan.height, plan.width, 3) uint8, in order (streaming).

    shot_frames[i] is shot i's take at its native size and fps shot_fps[i];
    `music` drives audio-reactive cameras (intensity > 0).
    """
    _check_plan(plan, shot_frames, shot_fps)
    ov = transition_overlaps(plan)
    n = len(plan.shots)

    def renderer(i: int) -> ShotRenderer:
        s = plan.shots[i]
        post = ov[i + 1].post if i + 1 < n else 0
        zt = ov[i].kind == "zoom_through" or (i + 1 < n and ov[i + 1].kind == "zoom_through")
        extra = ZOOM_THROUGH_FACTOR if zt else 1.0
        return ShotRenderer(
            plan, i, shot_frames[i], shot_fps[i], (s.start_frame - ov[i].pre, s.end_frame + post), music, extra
        )

    previous: ShotRenderer | None = None
    current, upcoming = renderer(0), (renderer(1) if n > 1 else None)
    for i, shot in enumerate(plan.shots):
        if i > 0:
            current, upcoming = upcoming, (renderer(i + 1) if i + 1 < n else None)
        into_next = ov[i + 1] if i + 1 < n else None
        for g in range(shot.start_frame, shot.end_frame):
            if previous is not None and g < shot.start_frame + ov[i].post:  # in the transition into this shot
                yield _transition_frame(ov[i], g - (shot.start_frame - ov[i].pre), previous, current, g)
            elif into_next is not None and into_next.pre and g >= shot.end_frame - into_next.pre:
                yield _transition_frame(into_next, g - (shot.end_frame - into_next.pre), current, upcoming, g)
            else:
                yield current.frame(g)
        previous = current


def _transition_frame(ov: Overlap, k: int, outgoing: ShotRenderer, incoming: ShotRenderer, g: int) -> np.ndarray:
    """Frame k (0-based within the transition) of transition `ov`, at global frame g."""
    if ov.kind == "crossfade":
        return blend(outgoing.frame(g), incoming.frame(g), crossfade_weight(k, ov.frames))
    z_out, z_in, w = zoom_through_params(k, ov.frames)
    if w <= 0:
        return outgoing.frame(g, z_out)
    if w >= 1:
        return incoming.frame(g, z_in)
    return blend(outgoing.frame(g, z_out), incoming.frame(g, z_in), w)


# ---------------------------------------------------------------- colour continuity


def _cdf(channel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mid-point CDF (256,) of a uint8 channel, and which levels occur (256,) bool."""
    hist = np.bincount(channel.ravel(), minlength=256).astype(np.float64)
    c = np.cumsum(hist)
    return (c - 0.5 * hist) / c[-1], hist > 0


def match_histograms(frames: np.ndarray, reference_frame: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """Grade frames (T, H, W, 3) (or one (H, W, 3)) so the first frame's per-channel CDF matches the reference.

    One look-up table per channel, computed from the first frame, is applied to
    every frame so the shot keeps its own internal motion of light; `strength`
    in [0, 1] blends the table with identity. Used so a shot's first frame
    matches the previous shot's last frame.
    """
    single = frames.ndim == 3
    clip = frames[None] if single else frames  # (T, H, W, 3)
    levels = np.arange(256, dtype=np.float64)
    lut = np.empty((1, 256, 3), dtype=np.uint8)  # cv2.LUT per-channel table
    for c in range(3):
        src_cdf, _ = _cdf(clip[0, ..., c])
        ref_cdf, present = _cdf(reference_frame[..., c])
        # source level -> reference level of equal rank (over levels that occur: strictly increasing CDF)
        matched = np.interp(src_cdf, ref_cdf[present], levels[present])
        lut[0, :, c] = np.clip(np.round((1 - strength) * levels + strength * matched), 0, 255)
    out = np.stack([cv2.LUT(f, lut) for f in clip])  # (T, H, W, 3)
    return out[0] if single else out


def histogram_distance(a: np.ndarray, b: np.ndarray, bins: int = 32) -> float:
    """Colour distance in [0, 1]: mean over channels of half the L1 distance of normalised histograms."""
    d = 0.0
    for c in range(3):
        ha = np.histogram(a[..., c], bins=bins, range=(0, 256))[0].astype(np.float64)
        hb = np.histogram(b[..., c], bins=bins, range=(0, 256))[0].astype(np.float64)
        d += 0.5 * np.abs(ha / ha.sum() - hb / hb.sum()).sum()
    return d / 3
