"""Digital camera moves (zoom, pan, tilt, dolly zoom, shake) applied at output resolution.

A move is two small functions:

1. `shot_windows` gives, for every output frame of a shot, the crop *window*
   the virtual camera sees: centre (cx, cy) and zoom, in fractions of the
   source's *cover region* (the largest centred part of the source frame with
   the output's aspect ratio). The window always lies inside the cover region,
   so the render never samples outside the source: no black edges, ever.
2. `render` maps that window onto an (out_h, out_w) frame with one bilinear
   warp. The warp *is* the upscale: rendering a window of zoom z is the same
   as upscaling the source to cover the output size × z and cropping the
   output out of it, without building the big intermediate image.

Speeds are rates per second, not totals per shot, so that a storyboard-wide
move reads as one continuous camera across cuts (each shot is a fresh
generation, so its scale restarts at 1.0 at its first frame, but the *rate*
of change is a function of global time and is the same on both sides of a
cut). `CameraMove.amount` means:

- zoom_in / zoom_out / dolly_zoom: fractional scale change per second
  (0.05 = 5 % bigger every second; log-rate = log1p(amount)). A shot of
  d seconds therefore needs a source margin of exp(rate × d), which the
  window normalisation provides by starting zoomed out as far as the source
  allows.
- pan_left / pan_right / tilt_up / tilt_down: travel per second in frame
  widths (heights for tilts); the window is zoomed in by 1 + total travel so
  the whole pan fits.
- shake: amount × 0.1 is the peak displacement as a fraction of the frame
  (the default 0.25 gives a 2.5 % handheld shake).

Easing shapes the *speed* (the derivative of the eased progress, mean 1), so
the total move is the same as linear. With `continuous=True` a run of
consecutive shots with the same move shares one easing curve and the run's
first shot's amount/easing/intensity/seed, so the camera never changes pace
at a cut. With `intensity > 0` the speed follows the song:
speed × max(0, 1 + intensity × (energy − mean energy)) plus a kick that rises
over two frames and decays over ~0.15 s after each onset; both curves are
smooth functions of global time, so the move stays continuous.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..music import MusicMap
from ..plan import CameraMove, ShotPlan
from ..storyboard.vocabulary import CAMERA_MOVES as MOVES
from ..storyboard.vocabulary import EASINGS, PAN_MOVES, ZOOM_MOVES

SHAKE_SCALE = 0.1  # shake amplitude per unit of `amount`, as a fraction of the frame
KICK_GAIN = 1.5  # extra speed at a full-strength onset, per unit of intensity
KICK_DECAY_S = 0.15  # onset kick decay time constant
DOLLY_INNER = (0.22, 0.38)  # dolly_zoom: centre region radius fully inner .. fully outer (fraction of frame height)
_EPS = 1e-9


@dataclass(frozen=True)
class Window:
    """What the camera sees in one output frame, in fractions of the source's cover region.

    cx, cy: window centre (0..1). zoom >= 1: the window spans 1/zoom of the
    cover region's width and height. inner_zoom > 0 only for dolly_zoom: the
    zoom of the counter-scaled centre region (same centre).
    """

    cx: float = 0.5
    cy: float = 0.5
    zoom: float = 1.0
    inner_zoom: float = 0.0

    def bounds(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of the window in cover-region fractions."""
        half = 0.5 / self.zoom
        return self.cx - half, self.cy - half, self.cx + half, self.cy + half

    def inside(self, tol: float = 1e-6) -> bool:
        """True if the window (and the dolly centre window) lies inside the source."""
        wins = [self] + ([Window(self.cx, self.cy, self.inner_zoom)] if self.inner_zoom > 0 else [])
        for w in wins:
            x0, y0, x1, y1 = w.bounds()
            if w.zoom < 1 - tol or x0 < -tol or y0 < -tol or x1 > 1 + tol or y1 > 1 + tol:
                return False
        return True

    def zoomed(self, factor: float) -> Window:
        """The same window zoomed in by `factor` >= 1 about its centre (stays inside)."""
        if factor < 1 - _EPS:
            raise ValueError(f"zoomed() only zooms in (factor {factor} < 1)")
        inner = self.inner_zoom * factor if self.inner_zoom > 0 else 0.0
        return Window(self.cx, self.cy, self.zoom * factor, inner)


# ---------------------------------------------------------------- easing


def ease(name: str, u: np.ndarray | float) -> np.ndarray:
    """Eased progress e(u) for u in [0, 1] (clipped), with e(0)=0 and e(1)=1."""
    u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
    if name == "linear":
        return u
    if name == "ease_in":
        return u * u
    if name == "ease_out":
        return 1 - (1 - u) ** 2
    if name == "ease_in_out":
        return u * u * (3 - 2 * u)
    raise ValueError(f"unknown easing {name!r}; expected one of {', '.join(EASINGS)}")


def ease_speed(name: str, u: np.ndarray | float) -> np.ndarray:
    """Derivative e'(u) of `ease`: the speed multiplier (mean 1 over [0, 1])."""
    u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
    if name == "linear":
        return np.ones_like(u)
    if name == "ease_in":
        return 2 * u
    if name == "ease_out":
        return 2 * (1 - u)
    if name == "ease_in_out":
        return 6 * u * (1 - u)
    raise ValueError(f"unknown easing {name!r}; expected one of {', '.join(EASINGS)}")


# ---------------------------------------------------------------- runs and speed


def camera_runs(plan: ShotPlan) -> list[int]:
    """For each shot, the index of the first shot of its camera run.

    A shot joins the previous shot's run when its camera is `continuous` and
    has the same move; the run then shares one easing curve and one speed.
    """
    first: list[int] = []
    for i, shot in enumerate(plan.shots):
        joins = i > 0 and shot.camera.continuous and shot.camera.move == plan.shots[i - 1].camera.move
        first.append(first[i - 1] if joins else i)
    return first


def _run_bounds(plan: ShotPlan, index: int) -> tuple[int, int, CameraMove]:
    """(start_frame, end_frame, camera) of the camera run containing shot `index`."""
    runs = camera_runs(plan)
    head = runs[index]
    last = max(j for j, r in enumerate(runs) if r == head)
    return plan.shots[head].start_frame, plan.shots[last].end_frame, plan.shots[head].camera


def _sample_curve(values: list[float], curve_fps: float, t: np.ndarray) -> np.ndarray:
    """Linear interpolation of a per-frame curve (at curve_fps) at times t (seconds)."""
    v = np.asarray(values, dtype=np.float64)
    return np.interp(t * curve_fps, np.arange(len(v)), v)


def onset_kick(music: MusicMap) -> np.ndarray:
    """Smooth kick envelope per energy frame: onset peaks with a 2-frame attack and exponential decay."""
    on = np.asarray(music.onsets, dtype=np.float64)
    if on.size == 0:
        return on
    peaks = np.clip(on - np.median(on), 0.0, None)  # only above-typical onsets kick
    n = max(2, int(math.ceil(5 * KICK_DECAY_S * music.energy_fps)))
    attack = np.array([0.5])  # one frame at half height: a two-frame rise
    decay = np.exp(-np.arange(n) / (KICK_DECAY_S * music.energy_fps))
    kernel = np.concatenate([attack, decay])
    kick = np.convolve(peaks, kernel)[: on.size]  # causal: kick starts at the onset
    peak = kick.max()
    return kick / peak if peak > 0 else kick


def music_factor(music: MusicMap | None, intensity: float, t: np.ndarray) -> np.ndarray:
    """Speed multiplier from the music at times t: 1 + intensity × (energy − mean) (>= 0) + kick."""
    t = np.asarray(t, dtype=np.float64)
    if music is None or intensity <= 0 or not music.energy:
        return np.ones_like(t)
    energy = np.asarray(music.energy, dtype=np.float64)
    e = _sample_curve(music.energy, music.energy_fps, t)
    factor = np.clip(1.0 + intensity * (e - energy.mean()), 0.0, None)
    if music.onsets:
        factor = factor + intensity * KICK_GAIN * _sample_curve(list(onset_kick(music)), music.energy_fps, t)
    return factor


def speed_profile(plan: ShotPlan, index: int, frames: np.ndarray, music: MusicMap | None = None) -> np.ndarray:
    """Camera speed multiplier of shot `index` at global output frames `frames` (easing × music).

    Evaluated at frame centres; a pure function of global time within a run,
    which is what makes the move continuous across cuts.
    """
    start, end, cam = _run_bounds(plan, index)
    centre = np.asarray(frames, dtype=np.float64) + 0.5
    u = (centre - start) / max(1, end - start)
    return ease_speed(cam.easing, u) * music_factor(music, cam.intensity, centre / plan.fps)


# ---------------------------------------------------------------- windows


def _integrate(step: np.ndarray, origin: int) -> np.ndarray:
    """Positions from per-frame steps (step[k] moves frame k to k+1), zero at index `origin`."""
    pos = np.concatenate([[0.0], np.cumsum(step[:-1])])  # (n,)
    return pos - pos[origin]


def _smooth_noise(seed: int, t: np.ndarray) -> np.ndarray:
    """Seeded smooth noise in [-1, 1] at times t (seconds): three incommensurate sinusoids."""
    rng = np.random.default_rng(seed)
    freqs = rng.uniform(0.4, 2.0, size=3)  # Hz: a handheld sway, not a vibration
    phases = rng.uniform(0, 2 * np.pi, size=3)
    amps = np.array([1.0, 0.6, 0.35])
    wave = sum(a * np.sin(2 * np.pi * f * t + p) for a, f, p in zip(amps, freqs, phases))
    return wave / amps.sum()


def shot_windows(
    plan: ShotPlan, index: int, music: MusicMap | None = None, span: tuple[int, int] | None = None
) -> list[Window]:
    """The camera window for every output frame of shot `index` over `span` (global frames, end exclusive).

    `span` defaults to the shot's own frames; edit passes a wider span when a
    transition needs the shot to run past its boundaries. Every returned
    window lies inside the source (asserted).
    """
    shot = plan.shots[index]
    a, b = span if span is not None else (shot.start_frame, shot.end_frame)
    if b <= a:
        return []
    _, _, cam = _run_bounds(plan, index)
    if cam.move not in MOVES:
        raise ValueError(f"shot {index}: unknown camera move {cam.move!r}; expected one of {', '.join(MOVES)}")
    frames = np.arange(a, b)  # (n,) global output frames
    speed = speed_profile(plan, index, frames, music)  # (n,)
    origin = int(np.clip(shot.start_frame - a, 0, b - a - 1))
    n = b - a
    cx, cy = np.full(n, 0.5), np.full(n, 0.5)
    zoom, inner = np.ones(n), np.zeros(n)

    if cam.move in ZOOM_MOVES:
        rate = math.log1p(max(cam.amount, 0.0)) * (-1 if cam.move == "zoom_out" else 1)
        log_zoom = _integrate(rate * speed / plan.fps, origin)  # (n,)
        zoom = np.exp(log_zoom - log_zoom.min())  # widest frame shows the whole cover region
        if cam.move == "dolly_zoom":
            inner = np.full(n, math.sqrt(zoom.min() * zoom.max()))  # centre holds still: counter-scaled
    elif cam.move in PAN_MOVES:
        sx, sy = PAN_MOVES[cam.move]
        travel = _integrate(abs(cam.amount) * speed / plan.fps, origin)  # (n,) in frame widths
        zoom = np.full(n, 1.0 + travel.max() - travel.min())
        offset = (travel - 0.5 * (travel.max() + travel.min())) / zoom
        cx, cy = 0.5 + sx * offset, 0.5 + sy * offset
    elif cam.move == "shake":
        head = plan.shots[camera_runs(plan)[index]]
        t = (frames + 0.5) / plan.fps
        amp = SHAKE_SCALE * abs(cam.amount) * music_factor(music, cam.intensity, t)  # (n,)
        dx = amp * _smooth_noise(head.seed, t)
        dy = amp * _smooth_noise(head.seed + 7919, t)
        zoom = np.full(n, 1.0 + 2.0 * max(np.abs(dx).max(), np.abs(dy).max()))
        cx, cy = 0.5 + dx / zoom, 0.5 + dy / zoom

    windows = [Window(float(x), float(y), float(z), float(iz)) for x, y, z, iz in zip(cx, cy, zoom, inner)]
    assert all(w.inside() for w in windows), f"shot {index}: camera window left the source"
    return windows


def max_zoom(windows: list[Window]) -> float:
    """The largest zoom (outer or dolly centre) over a list of windows: the margin the source needs."""
    return max([1.0] + [max(w.zoom, w.inner_zoom) for w in windows])


# ---------------------------------------------------------------- rendering


def cover_region(src_h: int, src_w: int, out_h: int, out_w: int) -> tuple[float, float, float, float]:
    """(x0, y0, width, height) in source pixels of the largest centred region with the output's aspect."""
    aspect = out_w / out_h
    if src_w / src_h > aspect:  # source wider than output: crop the sides
        w, h = src_h * aspect, float(src_h)
    else:  # source taller: crop top and bottom
        w, h = float(src_w), src_w / aspect
    return (src_w - w) / 2, (src_h - h) / 2, w, h


def window_matrix(src_shape: tuple[int, ...], win: Window, out_h: int, out_w: int) -> np.ndarray:
    """The 2×3 affine map from output pixel (x, y) to source pixel for `win` (pixel-centre exact).

    The window is clamped into the cover region, so sampling stays inside the source.
    """
    ox, oy, cw, ch = cover_region(src_shape[0], src_shape[1], out_h, out_w)
    zoom = max(win.zoom, 1.0)
    ww, wh = cw / zoom, ch / zoom  # window size in source pixels
    x0 = float(np.clip(ox + win.cx * cw - ww / 2, ox, ox + cw - ww))
    y0 = float(np.clip(oy + win.cy * ch - wh / 2, oy, oy + ch - wh))
    sx, sy = ww / out_w, wh / out_h
    # output pixel centre (j + 0.5) lands at x0 + (j + 0.5) * sx in continuous coords, -0.5 for cv2 indices
    return np.array([[sx, 0.0, x0 + 0.5 * sx - 0.5], [0.0, sy, y0 + 0.5 * sy - 0.5]])


def _warp(src: np.ndarray, win: Window, out_h: int, out_w: int) -> np.ndarray:
    """One bilinear warp of `win` onto an (out_h, out_w, 3) frame."""
    m = window_matrix(src.shape, win, out_h, out_w)
    # BORDER_REPLICATE only matters within half a source pixel of the edge (pixel-centre convention)
    return cv2.warpAffine(
        src, m, (out_w, out_h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
    )


_MASKS: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}


def _dolly_weights(out_h: int, out_w: int) -> tuple[np.ndarray, np.ndarray]:
    """Soft round centre mask (inner weight, outer weight), float32 (out_h, out_w), cached per size."""
    key = (out_h, out_w)
    if key not in _MASKS:
        y, x = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
        r = np.hypot(x + 0.5 - out_w / 2, y + 0.5 - out_h / 2) / out_h  # (H, W) radius in frame heights
        lo, hi = DOLLY_INNER
        t = np.clip((hi - r) / (hi - lo), 0, 1)
        inner_w = (t * t * (3 - 2 * t)).astype(np.float32)  # smoothstep edge
        _MASKS[key] = (inner_w, (1 - inner_w).astype(np.float32))
    return _MASKS[key]


def render(src: np.ndarray, win: Window, out_h: int, out_w: int) -> np.ndarray:
    """Render one output frame (out_h, out_w, 3) uint8 from a source frame (H, W, 3) uint8 and a window.

    Bilinear, never outside the source. For dolly_zoom (inner_zoom > 0) the
    centre region is rendered at the constant inner zoom and blended in with a
    soft round mask while the surround zooms.
    """
    assert src.ndim == 3 and src.shape[2] == 3 and src.dtype == np.uint8, f"expected (H, W, 3) uint8, got {src.shape}"
    out = _warp(src, win, out_h, out_w)  # (out_h, out_w, 3)
    if win.inner_zoom > 0:
        centre = _warp(src, Window(win.cx, win.cy, win.inner_zoom), out_h, out_w)
        w_in, w_out = _dolly_weights(out_h, out_w)
        out = cv2.blendLinear(centre, out, w_in, w_out)
    return out
