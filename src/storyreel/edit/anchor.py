"""The colour anchor: an extended shot keeps the colours of its first window.

A shot longer than one generation is a chain of windows (models.chain), each
conditioned on the last frames of the one before. Each extension shifts the
colours a little, and the shifts add up: by the fifth extension the shot has
visibly drifted (the top complaint in these models' trackers). Matching each
window to the previous one only passes the drift along, so the anchor
matches every window to the FIRST one:

- a window's correction is the per-channel histogram table that maps its
  frames' pooled colours onto the first window's (edit.colour.histogram_table);
- the tables are placed at the windows' middle frames and interpolated
  linearly in between (the first window's table is the identity), so the
  correction changes smoothly across a window boundary instead of jumping.

The grade (edit.grade) runs it on every chosen take that Clip.info says was
extended ("windows"), before it matches colours across cuts.
"""

from __future__ import annotations

import numpy as np

from .colour import apply_table, histogram_distance, histogram_table

POOLED = 6  # frames per window whose pixels are pooled for its colour distribution


def _pool(frames: np.ndarray) -> np.ndarray:
    """A few evenly spaced frames of a window, stacked: (k * H, W, 3)."""
    idx = np.unique(np.linspace(0, len(frames) - 1, min(POOLED, len(frames))).round().astype(int))
    return np.concatenate(list(frames[idx]), axis=0)


def window_tables(frames: np.ndarray, windows: list[tuple[int, int]]) -> list[np.ndarray]:
    """(256, 3) table per window mapping its colours onto the first window's (the first: identity)."""
    anchor = _pool(frames[windows[0][0]:windows[0][1]])
    identity = np.repeat(np.arange(256, dtype=np.float64)[:, None], 3, axis=1)
    return [identity] + [histogram_table(_pool(frames[a:b]), anchor) for a, b in windows[1:]]


def anchor_windows(frames: np.ndarray, windows: list[tuple[int, int]], strength: float = 1.0) -> np.ndarray:
    """Frames (T, H, W, 3) uint8 with every window's colours anchored to the first window's."""
    windows = [(int(a), int(b)) for a, b in windows if b > a]
    if len(windows) < 2:
        return frames
    tables = window_tables(frames, windows)  # one per window, at its middle frame
    centres = np.array([(a + b - 1) / 2 for a, b in windows])
    identity = tables[0]
    out = np.empty_like(frames)
    for t in range(len(frames)):
        k = int(np.searchsorted(centres, t))
        if k == 0:
            table = tables[0]
        elif k >= len(tables):
            table = tables[-1]
        else:
            u = (t - centres[k - 1]) / (centres[k] - centres[k - 1])
            table = (1 - u) * tables[k - 1] + u * tables[k]
        out[t] = apply_table(frames[t], identity + strength * (table - identity))
    return out


def drift(frames: np.ndarray, windows: list[tuple[int, int]]) -> list[float]:
    """Colour distance of each window from the first (edit.colour.histogram_distance of their pooled frames)."""
    anchor = _pool(frames[windows[0][0]:windows[0][1]])
    return [histogram_distance(_pool(frames[a:b]), anchor) for a, b in windows]
