"""What is on screen: a shot's take, time-resampled onto its span and seen through its camera window.

`ShotView.frame_at(g)` is the one answer to "what does the viewer see at
output frame g" for one shot. Assembly asks it at output size; the colour
grade and the continuity hand-off ask it at the take's native size, so the
frames they compare and hand on are exactly the frames the edit shows.

For every output frame of a shot's span (plan.cut: its own frames plus the
transition overlaps on either side) the view:

1. time-resamples the shot's native frames onto the output frames
   (natural speed when the take is long enough, otherwise slowed down so the
   take exactly spans the shot; linear frame blending; never loops);
2. prepares the source frame (cover-crop to the output aspect; small sources
   get a cheap bicubic pre-upscale of at most 4x so the final bilinear warp
   magnifies less);
3. renders the camera window (`camera.render`).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..music import MusicMap
from ..plan import ShotPlan
from . import camera

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


# ---------------------------------------------------------------- one shot


class ShotView:
    """Shot `index`'s take as the viewer sees it, at any output frame of its span.

    Holds only the shot's native frames (T, H, W, 3) uint8, the per-frame
    source positions and camera windows; each frame is one small blend, one
    small resize and one warp. `max_extra_zoom`: the most a transition will
    zoom in on top of the camera (zoom_through), so the source is prepared
    with enough margin.
    """

    def __init__(self, plan: ShotPlan, index: int, frames: np.ndarray, fps: float, music: MusicMap | None = None,
                 max_extra_zoom: float = 1.0):
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
            raise ValueError(f"shot {index}: expected (T, H, W, 3) uint8 frames, got {frames.shape} {frames.dtype}")
        self.plan, self.index, self.frames, self.music = plan, index, frames, music
        self.span = plan.cut.span(index)
        self.positions = resample_positions(len(frames), fps, self.span[1] - self.span[0], plan.fps)  # (n,)
        self.windows = camera.shot_windows(plan, index, music, self.span)  # n windows
        zoom = camera.max_zoom(self.windows) * max_extra_zoom
        self.margin = source_margin(frames.shape[1], frames.shape[2], plan.height, plan.width, zoom)

    def _k(self, g: int) -> int:
        k = g - self.span[0]
        if not 0 <= k < len(self.positions):
            raise ValueError(f"frame {g} is outside shot {self.index}'s span {self.span}")
        return k

    def frame_at(self, g: int, *, extra_zoom: float = 1.0, native: bool = False) -> np.ndarray:
        """What the shot shows at global output frame g, (H, W, 3) uint8.

        At output size (plan.height x plan.width), zoomed in by `extra_zoom`
        on top of the camera (transitions); with native=True at the take's
        own size (the grade and the hand-off compare frames there).
        """
        k = self._k(g)
        src = blend_at(self.frames, self.positions[k])  # (h, w, 3) native
        if native:
            h, w = self.frames.shape[1:3]
            return camera.render(np.ascontiguousarray(src), self.windows[k], h, w)
        if self.margin is not None:
            src = fit_size(src, self.plan.height, self.plan.width, self.margin)  # (H·m, W·m, 3)
        win = self.windows[k] if extra_zoom == 1.0 else self.windows[k].zoomed(extra_zoom)
        return camera.render(src, win, self.plan.height, self.plan.width)

    def frame_after_end(self) -> np.ndarray:
        """What the camera would see one output frame after the shot's last, at native size (H, W, 3) uint8.

        The picture is the take at the time the viewer last saw it plus one
        output frame of motion; the window is the camera's at the shot's last
        output frame, pushed in by one more frame's zoom step when the move
        zooms in (zoom_in, an audio-reactive zoom), so the zoom rate carries
        straight across a cut. Moves that zoom out or pan cannot be carried
        on from inside the last frame; they hand off the last window as it was.
        """
        shot = self.plan.shots[self.index]
        k = self._k(shot.end_frame - 1)
        win = self.windows[k]
        span = (self.span[0], max(self.span[1], shot.end_frame + 1))
        ext = camera.shot_windows(self.plan, self.index, self.music, span)
        step = ext[k + 1].zoom / ext[k].zoom  # the camera's next frame (ratios do not depend on the span)
        if step > 1:
            win = camera.Window(win.cx, win.cy, win.zoom * step, win.inner_zoom)
        pos = self.positions
        nxt = pos[k] + (pos[k] - pos[k - 1] if k > 0 else 0.0)
        src = blend_at(self.frames, min(nxt, len(self.frames) - 1))
        h, w = self.frames.shape[1:3]
        return camera.render(np.ascontiguousarray(src), win, h, w)
