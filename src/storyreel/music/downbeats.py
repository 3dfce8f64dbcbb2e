"""Step 4 of the analysis: downbeats and the meter.

Per beat, "bar-start evidence" (harmonic change + low-band accent); the meter
(3 vs 4) is the period that folds that evidence sharpest, and a small Viterbi
over bar positions picks the phase, allowing rare resets.
"""

from __future__ import annotations

import numpy as np

from .features import Features, zscore

METERS = (3, 4)  # meters detected automatically; others only via beats_per_bar


def downbeat_evidence(feats: Features, beat_frames: np.ndarray) -> np.ndarray:
    """Per beat: how much it looks like beat one (z-scored harmonic change + low-band accent)."""
    n = len(beat_frames)
    if n < 3:
        return np.zeros(n)
    bounds = np.concatenate([beat_frames, [min(feats.n_frames, 2 * beat_frames[-1] - beat_frames[-2])]])
    chroma = np.stack([feats.chroma[:, a:max(b, a + 1)].mean(axis=1) for a, b in zip(bounds[:-1], bounds[1:])], axis=1)
    chroma /= np.linalg.norm(chroma, axis=0, keepdims=True) + 1e-9
    # Chords change on bar lines: compare the two beats after each beat with the two before it.
    after = chroma + np.roll(chroma, -1, axis=1)
    before = np.roll(chroma, 1, axis=1) + np.roll(chroma, 2, axis=1)
    cos = np.sum(after * before, axis=0) / (np.linalg.norm(after, axis=0) * np.linalg.norm(before, axis=0) + 1e-9)
    change = 1.0 - cos
    change[:2] = np.median(change)
    # A small weight only: with a kick on every beat the low band barely singles out beat one.
    low = np.array([feats.bands[0, max(0, f - 2) : f + 3].max() for f in beat_frames])
    return zscore(change) + 0.25 * zscore(low)


def find_downbeats(
    feats: Features, beat_frames: np.ndarray, beats_per_bar: int | None
) -> tuple[int, np.ndarray]:
    """(beats per bar, boolean mask over beats marking downbeats)."""
    evidence = downbeat_evidence(feats, beat_frames)
    meter = beats_per_bar or detect_meter(evidence)
    return meter, bar_positions(evidence, meter) == 0


def detect_meter(evidence: np.ndarray, chunk_bars: int = 8) -> int:
    """3 or 4: the bar length whose phase-folded evidence is sharpest, chunk by chunk.

    Chunks (8 bars each) make a single dropped beat cost one chunk, not the whole song.
    4/4 wins ties, being far more common.
    """
    scores = {}
    for m in METERS:
        size = m * chunk_bars
        total = 0.0
        for start in range(0, max(1, len(evidence) - m + 1), size):
            chunk = evidence[start : start + size]
            if len(chunk) < 2 * m:
                continue
            folded = np.array([chunk[p::m].mean() for p in range(m)])
            best = int(np.argmax(folded))
            total += (folded[best] - np.delete(folded, best).mean()) * len(chunk)
        scores[m] = total
    return 3 if scores[3] > 1.15 * scores[4] and scores[3] > 0 else 4


def bar_positions(evidence: np.ndarray, meter: int, reset_cost: float = 6.0) -> np.ndarray:
    """Viterbi over the position of each beat in its bar (0 = downbeat).

    Positions advance by one per beat; jumping elsewhere costs `reset_cost` (in evidence
    units), so a phase change needs several bars of consistent evidence: robust to noise,
    yet recovers from a beat the tracker dropped or added.
    """
    n = len(evidence)
    if n == 0:
        return np.zeros(0, dtype=int)
    states = np.arange(meter)
    emit = np.where(states[None, :] == 0, evidence[:, None], 0.0)  # (n, meter)
    score = emit[0].copy()
    back = np.zeros((n, meter), dtype=int)
    for i in range(1, n):
        advance = np.roll(score, 1)  # came from position p-1
        best_any = int(np.argmax(score))
        reset = score[best_any] - reset_cost
        take_reset = reset > advance
        back[i] = np.where(take_reset, best_any, (states - 1) % meter)
        score = np.maximum(advance, reset) + emit[i]
    pos = np.zeros(n, dtype=int)
    pos[-1] = int(np.argmax(score))
    for i in range(n - 1, 0, -1):
        pos[i - 1] = back[i, pos[i]]
    return pos
