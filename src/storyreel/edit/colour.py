"""Colour statistics of frames: histogram matching (the grade's look-up tables) and histogram distance."""

from __future__ import annotations

import cv2
import numpy as np


def _cdf(channel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mid-point CDF (256,) of a uint8 channel, and which levels occur (256,) bool."""
    hist = np.bincount(channel.ravel(), minlength=256).astype(np.float64)
    c = np.cumsum(hist)
    return (c - 0.5 * hist) / c[-1], hist > 0


def histogram_table(source: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(256, 3) float table mapping each channel's levels of `source` (any (..., 3) uint8) onto `reference`'s."""
    levels = np.arange(256, dtype=np.float64)
    table = np.empty((256, 3), dtype=np.float64)
    for c in range(3):
        src_cdf, _ = _cdf(source[..., c])
        ref_cdf, present = _cdf(reference[..., c])
        table[:, c] = np.interp(src_cdf, ref_cdf[present], levels[present])
    return table


def apply_table(frame: np.ndarray, table: np.ndarray) -> np.ndarray:
    """One (H, W, 3) uint8 frame through a (256, 3) float table (rounded, clipped)."""
    lut = np.clip(np.round(table), 0, 255).astype(np.uint8)[None]  # (1, 256, 3): cv2.LUT per channel
    return cv2.LUT(np.ascontiguousarray(frame), lut)


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
