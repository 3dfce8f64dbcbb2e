"""Step 6 of the analysis: smoothed loudness and onset strength, sampled per output frame.

scipy is imported inside the functions that need it: it takes a while to import,
and a render whose analysis is cached needs none of it.
"""

from __future__ import annotations

import numpy as np

from .features import Features


def loudness_curve(feats: Features, smooth_s: float = 0.4) -> np.ndarray:
    """Per analysis frame, 0..1: perceived loudness relative to the song's loudest moments.

    RMS is smoothed over ~0.4 s (a beat or so, so single hits do not flicker), converted to dB
    and mapped as 2^(dB/10): loudness roughly doubles every +10 dB, so a part 10 dB under the
    chorus reads 0.5, not the 0.8 a linear dB scale would give.
    """
    from scipy.ndimage import uniform_filter1d

    width = max(1, int(round(smooth_s * feats.sr / feats.hop)))
    rms = uniform_filter1d(feats.rms.astype(np.float64), size=width, mode="nearest")
    db = 20 * np.log10(rms + 1e-9)
    top = float(np.percentile(db, 99.5))
    return np.clip(2.0 ** ((db - top) / 10.0), 0.0, 1.0)


def sample_per_frame(feats: Features, curve: np.ndarray, fps: float, duration: float, how: str) -> np.ndarray:
    """Resample a per-analysis-frame curve to one value per video frame (frame k covers [k/fps, (k+1)/fps))."""
    n_out = int(np.ceil(duration * fps - 1e-9))
    edges = feats.time_frames(np.arange(n_out + 1) / fps)
    edges[-1] = len(curve)
    reducer = np.maximum if how == "max" else np.add
    sums = reducer.reduceat(curve, np.minimum(edges[:-1], len(curve) - 1))
    if how == "max":
        return sums
    counts = np.maximum(np.diff(np.minimum(edges, len(curve))), 1)
    # reduceat on an empty range returns the element itself; counts of 1 keep that value as the mean
    return sums / counts
