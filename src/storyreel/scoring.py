"""Scoring takes: pick the best of several generations of a shot without downloaded weights.

The score (higher is better, about 0..1) combines:
- continuity: how well the take's first frame matches the previous shot's
  last frame (colour histograms), so the cut does not jump;
- stability: low flicker and low optical-flow warping error (OpenCV);
- adherence (built-in model only): the pixel probe's reading of the take
  compared with what the prompt asks for in the world's vocabulary.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .edit import histogram_distance
from .eval.temporal import flicker, warp_error
from .plan import Shot

WEIGHTS = {"continuity": 1.0, "stability": 1.0, "adherence": 2.0}


@lru_cache(maxsize=1)
def _probe():
    from .eval.probe import PROBE_PATH, load_probe

    return load_probe() if PROBE_PATH.exists() else None


def adherence(frames: np.ndarray, prompt: str) -> float | None:
    """Fraction of the prompt's objects (colour, shape, motion) and setting the probe sees; None if not judgeable."""
    from .eval.evaluate import read
    from .models.builtin import world

    probe = _probe()
    want = world.parse(prompt)
    if probe is None or not want["objects"] or len(want["objects"]) > 2:
        return None
    seen = read(probe, frames[:16], len(want["objects"]))
    hits, total = 0, 0
    if want["setting"]:
        hits += seen.setting == want["setting"]
        total += 1
    wanted = [(c, s, want["motions"][i] if i < len(want["motions"]) else None) for i, (c, s) in enumerate(want["objects"])]
    orders = [seen.objects, seen.objects[::-1]] if len(seen.objects) == 2 else [seen.objects]
    best = 0
    for order in orders:
        score = sum((c == oc) + (s == os_) + (m is not None and m == om) for (c, s, m), (oc, os_, om) in zip(wanted, order))
        best = max(best, score)
    hits += best
    total += sum(2 + (m is not None) for c, s, m in wanted)
    return hits / total if total else None


def score_take(frames: np.ndarray, previous_last: np.ndarray | None, shot: Shot, *, judge_prompt: bool = True) -> tuple[float, dict]:
    """(score, parts) for one take of `shot`; `previous_last` is the previous shot's chosen last frame."""
    parts: dict[str, float] = {}
    if previous_last is not None:
        parts["continuity"] = 1.0 - histogram_distance(frames[0], previous_last)
    parts["stability"] = math.exp(-(warp_error(frames[:16]) + 2.0 * flicker(frames[:16])) / 20.0)
    if judge_prompt and shot.model == "builtin":
        a = adherence(frames, shot.prompt)
        if a is not None:
            parts["adherence"] = a
    total = sum(WEIGHTS[k] * v for k, v in parts.items()) / sum(WEIGHTS[k] for k in parts)
    return total, parts
