"""Takes -> output frames: the shots' views, joined by their transitions, streamed one frame at a time.

`assemble` streams the finished video one output frame at a time (a 4-minute
1280x720 video is 16 GB raw, so nothing holds more than a shot's native
frames). Each frame is the current shot's view (edit.view.ShotView), or,
inside a transition of the plan's Cut, a blend of the outgoing and incoming
views: a crossfade, or a zoom_through (the camera pushes into the outgoing
shot and the incoming one emerges from a zoomed-in state).
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from ..music import MusicMap
from ..plan import Overlap, ShotPlan
from .view import ShotView

ZOOM_THROUGH_FACTOR = 4.0  # extra zoom at the far end of a zoom_through


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
    ov = plan.cut.overlaps
    n = len(plan.shots)

    def renderer(i: int) -> ShotView:
        zt = ov[i].kind == "zoom_through" or (i + 1 < n and ov[i + 1].kind == "zoom_through")
        return ShotView(plan, i, shot_frames[i], shot_fps[i], music, ZOOM_THROUGH_FACTOR if zt else 1.0)

    previous: ShotView | None = None
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
                yield current.frame_at(g)
        previous = current


def _transition_frame(ov: Overlap, k: int, outgoing: ShotView, incoming: ShotView, g: int) -> np.ndarray:
    """Frame k (0-based within the transition) of transition `ov`, at global frame g."""
    if ov.kind == "crossfade":
        return blend(outgoing.frame_at(g), incoming.frame_at(g), crossfade_weight(k, ov.frames))
    z_out, z_in, w = zoom_through_params(k, ov.frames)
    if w <= 0:
        return outgoing.frame_at(g, extra_zoom=z_out)
    if w >= 1:
        return incoming.frame_at(g, extra_zoom=z_in)
    return blend(outgoing.frame_at(g, extra_zoom=z_out), incoming.frame_at(g, extra_zoom=z_in), w)
