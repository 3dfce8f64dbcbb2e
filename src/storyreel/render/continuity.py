"""Continuity between shots: which shots start from their predecessor, and the frame they start from.

With a continuous camera a shot starts from the previous shot's last frame as
the camera saw it (pushed in along the move), through the model's
image-to-video conditioning, so the move never breaks. Planning already made
a backend without conditioning cut with zoom-throughs instead (plan.build).
A plan therefore splits into *chains*: maximal runs of shots each starting
from its predecessor; chains do not depend on each other.
"""

from __future__ import annotations

import numpy as np

from ..edit.view import ShotView
from ..models.base import VideoModel
from ..plan import ShotPlan


def conditioned_on_previous(plan: ShotPlan, index: int, model: VideoModel) -> bool:
    """Whether shot `index` starts from shot index-1's last frame (continuous camera, backend with i2v)."""
    return index > 0 and plan.shots[index].camera.continuous and "i2v" in model.capabilities


def chains(plan: ShotPlan, model: VideoModel) -> list[list[int]]:
    """Shot indices grouped into chains: [[0, 1, 2], [3], [4, 5]] (each chain in order, chains in order)."""
    out: list[list[int]] = []
    for i in range(len(plan.shots)):
        if out and conditioned_on_previous(plan, i, model):
            out[-1].append(i)
        else:
            out.append([i])
    return out


def handoff_frame(plan: ShotPlan, prev_index: int, prev_frames: np.ndarray, fps: float, music=None) -> np.ndarray:
    """What the next shot starts from: the camera's view one output frame after shot `prev_index` ends.

    At the take's native size (H, W, 3) uint8; see ShotView.frame_after_end.
    prev_frames and fps: the previous shot's chosen take.
    """
    return ShotView(plan, prev_index, prev_frames, fps, music).frame_after_end()
