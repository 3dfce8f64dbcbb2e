"""Steps 2 and 3 of the analysis: the tempo (following a drifting one) and the beat grid.

The tempo comes from an autocorrelation tempogram of the kick/snare accents
with a broad prior, and a per-frame estimate near that period follows ramps
without octave jumps. The beats come from Ellis' dynamic-programming tracker,
run at that period and at its metrical neighbours (x2, /2, 3:2, 2:3); the grid
that best explains the accents, has eighths between its beats and stays
regular is the beat.

librosa and scipy are imported inside the functions that need them: together they take seconds to import,
and a render whose analysis is cached needs neither.
"""

from __future__ import annotations

import numpy as np

from .features import Features, accent_envelope, beat_envelope

TEMPO_RANGE = (50.0, 220.0)  # BPM the tracker considers for the beat level
TEMPO_RATIOS = (1.0, 2.0, 0.5, 1.5, 2.0 / 3.0)  # metrical neighbours of the tempogram's period tried


def estimate_tempo(env: np.ndarray, sr: int, hop: int) -> tuple[float, np.ndarray]:
    """Global BPM and a per-frame BPM curve for `env` (constant unless the song clearly drifts)."""
    import librosa

    step = 2  # tempogram on a 23 ms grid: plenty of lag resolution, a quarter of the work
    env2 = env[: len(env) // step * step].reshape(-1, step).max(axis=1)
    hop2 = hop * step
    win = int(round(8.0 * sr / hop2))  # 8 s windows: ~10+ beats even at slow tempo
    tg = librosa.feature.tempogram(onset_envelope=env2, sr=sr, hop_length=hop2, win_length=win)  # (win, T2)
    bpms = librosa.tempo_frequencies(win, sr=sr, hop_length=hop2)
    ok = (bpms >= TEMPO_RANGE[0]) & (bpms <= TEMPO_RANGE[1])
    # Broad log-normal prior around 110 BPM (1 octave sd): only breaks near-ties between octaves.
    prior = np.where(ok, np.exp(-0.5 * (np.log2(np.maximum(bpms, 1e-6) / 110.0)) ** 2), 0.0)

    weight = env2 / (env2.sum() + 1e-9)  # loud, rhythmic stretches count more than silence
    score = (tg * weight).sum(axis=1) * prior
    lag = int(np.argmax(score))
    global_bpm = _refine_bpm(score, lag, sr, hop2)

    # Local tempo: best lag within +-20% of the global period per frame. Frames whose best
    # lag does not stand out of that band (no rhythm there: a pad-only intro, where a smooth
    # swell correlates at every lag) take the tempo of confident neighbours; a ~12 s median
    # smooths the rest.
    band = ok & (bpms > global_bpm / 1.2) & (bpms < global_bpm * 1.2)
    idx = np.flatnonzero(band)
    best = idx[np.argmax(tg[idx], axis=0)]
    local = bpms[best]
    confidence = tg[best, np.arange(tg.shape[1])] - np.median(tg[idx], axis=0)
    sure = confidence >= 0.5 * np.percentile(confidence, 90)
    if sure.sum() < 0.25 * len(sure):
        return global_bpm, np.full(len(env), global_bpm)
    local = np.interp(np.arange(len(local)), np.flatnonzero(sure), local[sure])
    from scipy.ndimage import median_filter

    local = median_filter(local, size=int(12.0 * sr / hop2) | 1, mode="nearest")
    lo, hi = np.percentile(local, [10, 90])
    if hi / lo < 1.06:  # steady song: a single tempo is more precise than the noisy local curve
        return global_bpm, np.full(len(env), global_bpm)
    curve = np.interp(np.arange(len(env)) / step, np.arange(len(local)), local)
    return global_bpm, curve


def _refine_bpm(score: np.ndarray, lag: int, sr: int, hop: int) -> float:
    """Parabolic interpolation of the tempogram peak: sub-frame lag precision."""
    if 1 <= lag < len(score) - 1:
        a, b, c = score[lag - 1], score[lag], score[lag + 1]
        denom = a - 2 * b + c
        lag = lag + (0.5 * (a - c) / denom if denom < 0 else 0.0)
    return 60.0 * sr / (hop * max(lag, 1e-6))


def track_beats(feats: Features) -> np.ndarray:
    """Beat frames: dynamic programming on the beat envelope with the (possibly drifting) tempo.

    The tempogram's favourite period is often a metrical neighbour of the beat (half, double,
    or 3:2 with syncopated kicks), so the tracker runs at each neighbour and keeps the grid
    with the best `level_score`.
    """
    env, acc = beat_envelope(feats), accent_envelope(feats)
    global_bpm, curve = estimate_tempo(acc, feats.sr, feats.hop)
    peaks = strong_peaks(acc, feats)
    best: tuple[float, np.ndarray] | None = None
    for ratio in TEMPO_RATIOS:  # the tempogram's own choice first: it wins ties
        if not TEMPO_RANGE[0] <= global_bpm * ratio <= TEMPO_RANGE[1]:
            continue
        frames = _dp_beats(env, feats, curve * ratio)
        score = level_score(frames, peaks, feats)
        if best is None or score > best[0] + 0.02:
            best = (score, frames)
    frames = best[1] if best is not None else _dp_beats(env, feats, curve)
    return _trim_beats(feats, env, frames)


def _dp_beats(env: np.ndarray, feats: Features, curve: np.ndarray) -> np.ndarray:
    """Ellis' DP tracker (librosa) at a given tempo curve, beats across the whole envelope."""
    import librosa

    bpm = curve if np.ptp(curve) > 0 else float(curve[0])
    _, frames = librosa.beat.beat_track(
        onset_envelope=env, sr=feats.sr, hop_length=feats.hop, bpm=bpm, tightness=100, trim=False
    )
    return np.asarray(frames, dtype=int)


def strong_peaks(acc: np.ndarray, feats: Features) -> np.ndarray:
    """Frames of clear accents: local maxima >= 50 ms apart, above 35% of the 99th percentile."""
    from scipy.signal import find_peaks

    peaks, _ = find_peaks(acc, distance=max(1, int(0.05 * feats.sr / feats.hop)), height=0.35 * np.percentile(acc, 99))
    return peaks


def level_score(beats: np.ndarray, peaks: np.ndarray, feats: Features) -> float:
    """How plausible a beat grid is as *the* beat level (higher is better). Three cues:

    fit          F-measure between beats and strong kick/snare accents: a grid too slow
                 misses accents, one too fast puts beats on nothing.
    subdivision  hats/high-band onsets half-way between beats relative to on the beats:
                 pop subdivides beats in two, so the true grid has eighths at its midpoints.
    irregular    share of beat intervals that bend >2% from their neighbours: a grid at a
                 wrong ratio (3:2) must bend to land on accents.
    """
    if len(beats) < 4 or len(peaks) == 0:
        return -1.0
    tol = max(2, int(round(0.035 * feats.sr / feats.hop)))
    recall = np.mean(_distance_to(peaks, beats) <= tol)
    precision = np.mean(_distance_to(beats, peaks) <= tol)
    fit = 2 * recall * precision / (recall + precision + 1e-9)

    ibi = np.diff(beats).astype(np.float64)
    from scipy.ndimage import median_filter

    local = median_filter(ibi, size=9, mode="nearest")
    irregular = float(np.mean((np.abs(ibi - local) - 1.0) / local > 0.02))  # 1 frame of quantisation is fine

    high = feats.bands[2]
    half = max(1, int(0.15 * np.median(ibi)))  # +-15% of a beat: swung eighths still count
    mids = (beats[:-1] + beats[1:]) // 2
    at_mid = np.median([high[max(0, m - half) : m + half + 1].max() for m in mids])
    at_beat = np.median([high[max(0, b - 2) : b + 3].max() for b in beats])
    subdivision = min(1.0, at_mid / (at_beat + 1e-9))
    return fit + 0.25 * subdivision - irregular


def _distance_to(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """For each element of x, the distance to the nearest element of sorted `ref`."""
    idx = np.searchsorted(ref, x)
    left = ref[np.clip(idx - 1, 0, len(ref) - 1)]
    right = ref[np.clip(idx, 0, len(ref) - 1)]
    return np.minimum(np.abs(x - left), np.abs(x - right))


def _trim_beats(feats: Features, env: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Drop beats the tracker placed in silence at either end, or in a ring-out after the music.

    Leading beats in an audible but rhythm-less intro stay: there the tracker extends the
    song's grid backwards, which is what cuts in an intro need (and the very first hit of a
    song starting at 0 s has no measurable onset, yet is a beat).
    """
    if len(frames) < 8:
        return frames
    db = 20 * np.log10(feats.rms[frames] + 1e-9)
    audible = np.flatnonzero(db > db.max() - 50.0)
    if len(audible) == 0:
        return frames
    frames = frames[audible[0] : audible[-1] + 1]
    strength = np.array([env[max(0, f - 2) : f + 3].max() for f in frames])
    weak = strength < 0.3 * np.median(strength)
    end = len(frames)
    while end > 1 and weak[end - 1]:
        end -= 1
    return frames[:end]


def tempo_from_beats(beats: np.ndarray) -> float:
    """Median tempo over 8-beat spans: robust to single misplaced beats and frame quantisation."""
    if len(beats) < 2:
        return 0.0
    k = min(8, len(beats) - 1)
    spans = (beats[k:] - beats[:-k]) / k
    return float(60.0 / np.median(spans))
