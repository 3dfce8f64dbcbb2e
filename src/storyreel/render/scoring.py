"""Scoring takes: pick the best of several generations of a shot without downloaded weights.

The score (higher is better, about 0..1) combines:
- continuity: how well the take's first frame matches the previous shot's
  last frame (colour histograms), so the cut does not jump;
- stability: low flicker and low optical-flow warping error (OpenCV);
- adherence: the backend's own reading of the take against the prompt
  (`VideoModel.adherence`; the built-in model's pixel probe), when the backend
  can judge one.
"""

from __future__ import annotations

import math

import numpy as np

from ..edit.colour import histogram_distance
from ..eval.temporal import flicker, warp_error
from ..models.base import VideoModel
from ..plan import Shot

WEIGHTS = {"continuity": 1.0, "stability": 1.0, "adherence": 2.0}


def score_take(frames: np.ndarray, previous_last: np.ndarray | None, shot: Shot, model: VideoModel | None = None,
               *, judge_prompt: bool = True) -> tuple[float, dict]:
    """(score, parts) for one take of `shot`; `previous_last` is the previous shot's chosen last frame.

    `model`: the backend that made the take, asked for its prompt adherence.
    """
    parts: dict[str, float] = {}
    if previous_last is not None:
        parts["continuity"] = 1.0 - histogram_distance(frames[0], previous_last)
    parts["stability"] = math.exp(-(warp_error(frames[:16]) + 2.0 * flicker(frames[:16])) / 20.0)
    if judge_prompt and model is not None:
        a = model.adherence(frames, shot.prompt)
        if a is not None:
            parts["adherence"] = a
    total = sum(WEIGHTS[k] * v for k, v in parts.items()) / sum(WEIGHTS[k] for k in parts)
    return total, parts
