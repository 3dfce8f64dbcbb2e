"""Prompt adherence of a video of the built-in world: what the pixel probe reads against what the prompt asks.

The built-in backend's `adherence(frames, prompt)` (take scoring asks any
backend through that method, never by name); it can judge only prompts in the
world's vocabulary, with one or two objects.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .. import world
from .evaluate import read
from .probe import PROBE_PATH, Probe, load_probe


@lru_cache(maxsize=1)
def shipped_probe() -> Probe | None:
    """The probe shipped in the package, loaded once per process; None before it is trained."""
    return load_probe() if PROBE_PATH.exists() else None


def probe_adherence(frames: np.ndarray, prompt: str) -> float | None:
    """Fraction of the prompt's objects (colour, shape, motion) and setting the probe sees; None if not judgeable."""
    probe = shipped_probe()
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
