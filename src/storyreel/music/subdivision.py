"""Is the beat split in two or in three? From where the onsets fall between the beats.

A bar of 2 beats with each beat in three is 6/8 (3 beats: 9/8, 4 beats: 12/8, a shuffle or a slow blues);
in two, 2/4, 3/4 or 4/4. The beat grid is already known, so this only compares the onset strength at
the thirds of each beat with that at its half and quarters: whichever grid the notes between the beats
sit on. A swung eighth (played late, near the last third) reads as three: the feel of 12/8.
"""

from __future__ import annotations

import numpy as np

TERNARY_RATIO = 1.3  # onsets at the thirds this much stronger than at the half and quarters: in three


def subdivision(onset: np.ndarray, beat_positions: np.ndarray) -> tuple[int, float]:
    """(2 or 3, confidence 0..1) from the onset strength `onset` (T,) and beats at fractional frames (N,)."""
    b = np.asarray(beat_positions, dtype=np.float64)
    if len(b) < 5:
        return 2, 0.0
    a, e = b[:-1], b[1:]
    period = float(np.median(e - a))
    if period < 6:  # under 7 frames a beat (> ~740 BPM at the beat grid): no room between the beats
        return 2, 0.0

    def strength(frac: float) -> np.ndarray:
        f = np.round(a + frac * (e - a)).astype(int)
        return np.maximum.reduce([onset[np.clip(f + d, 0, len(onset) - 1)] for d in (-1, 0, 1)])  # (N - 1,)

    base = float(np.median(onset))
    thirds = np.mean([strength(1 / 3), strength(2 / 3)], axis=0) - base
    halves = np.maximum(strength(1 / 2), np.mean([strength(1 / 4), strength(3 / 4)], axis=0)) - base
    t, h = float(np.mean(np.maximum(thirds, 0))), float(np.mean(np.maximum(halves, 0)))
    if t + h <= 1e-9:
        return 2, 0.0
    margin = float(np.log((t + 1e-9) / (h + 1e-9) / TERNARY_RATIO))  # > 0: in three
    on = float(np.mean(np.maximum(strength(0.0) - base, 0)))
    heard = float(np.clip(max(t, h) / (0.15 * on + 1e-9), 0.0, 1.0))  # little between the beats: unsure
    return (3 if margin > 0 else 2), float((1.0 - np.exp(-abs(margin) / 0.3)) * heard)


def time_signature(beats_per_bar: int, sub: int) -> str:
    """'4/4', '3/4', '2/4', or the compound '6/8', '9/8', '12/8' when each beat is in three."""
    return f"{3 * beats_per_bar}/8" if sub == 3 and beats_per_bar in (2, 3, 4) else f"{beats_per_bar}/4"
