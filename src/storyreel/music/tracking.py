"""Steps 2-4 of the analysis: beats, meter and downbeats from the network's activations, with confidences.

The beat/downbeat network (music.beatnet) says per frame how likely a beat and a downbeat are; the
bar-pointer Viterbi (music.barpointer) turns that into one tempo-following grid of beats and bars at the
meter that explains it best. (scipy is imported inside the function that needs it.) The confidences say how sure each choice is, from the activations themselves:
- tempo: the beats must stand out of the half-way points (else the true beat may be twice as fast) and
  every other beat must be about as strong as its neighbours (else it may be half as fast);
- meter: how much better the chosen meter's path explains the song than the next best, per bar;
- downbeat: how much better the chosen bar phase explains the activations (and the chord changes) than
  any other phase, per bar (music.barphase).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .barpointer import METERS, decode
from .barphase import choose_phase, peak_near

POOL = 2  # activation frames per Viterbi frame
REFINE = 4  # full-rate frames searched on either side of a coarse beat for the activation peak (46 ms)
TAIL_SHARE = 0.15  # trailing beats weaker than this share of the median beat are a ring-out, not beats
SILENCE_DB = -50.0  # beats where the song is this far below its loudest second are dropped (digital silence)


@dataclass
class Tracked:
    beat_frames: np.ndarray  # (N,) frame of each beat
    beat_positions: np.ndarray  # (N,) the same in fractional frames: the activation's peak, interpolated
    is_downbeat: np.ndarray  # (N,) bool
    meter: int
    confidence: dict[str, float] = field(default_factory=dict)  # tempo / meter / downbeat, 0..1


def track(act: np.ndarray, fps: float, rms: np.ndarray, beats_per_bar: int | None = None,
          chroma: np.ndarray | None = None, onset: np.ndarray | None = None) -> Tracked:
    """Beats and bars for activations act (2, T); `beats_per_bar` forces the meter; chroma (12, T) and
    onset strength (T,) on the same frames, when given, help find the bar phase and where the music ends."""
    meters = (beats_per_bar,) if beats_per_bar else METERS
    coarse = _pooled(_local_gain(act, fps), POOL)  # (2, T / POOL): the Viterbi at 43 fps, a quarter of the work
    runs = {m: decode(coarse, fps / POOL, m) for m in meters}
    best = max(runs.values(), key=lambda d: d.score)
    fine, pos = _lead_in(_refined(best.beats * POOL, act[0]), best.beat_in_bar, best.meter, fps)
    keep = _audible(fine, rms, fps) & _before_ring_out(fine, act[0], onset)
    frames, pos = fine[keep], pos[keep]
    pos, downbeat_conf = choose_phase(act, chroma, frames, pos, best.meter)
    conf = {
        "tempo": tempo_confidence(act[0], frames),
        "meter": 1.0 if beats_per_bar else meter_confidence(runs, best, len(frames)),
        "downbeat": downbeat_conf,
    }
    return Tracked(frames, _steadied(_subframe(frames, act[0]), fps), pos == 0, best.meter,
                   {k: round(float(v), 3) for k, v in conf.items()})


def _steadied(positions: np.ndarray, fps: float, half: int = 4, max_dev_s: float = 0.08) -> np.ndarray:
    """Each beat moved onto the straight line through its 2 * half + 1 neighbours where they keep a steady
    tempo (no beat more than `max_dev_s` off that line): a fading or sparse stretch, where single beats
    wobble by tens of ms, then lies on one grid; a real tempo change or a fermata is left alone."""
    out = positions.astype(np.float64).copy()
    idx = np.arange(len(positions), dtype=np.float64)
    for i in range(half, len(positions) - half):
        sl = slice(i - half, i + half + 1)
        slope, icept = np.polyfit(idx[sl], positions[sl], 1)
        fit = slope * idx[sl] + icept
        if np.max(np.abs(positions[sl] - fit)) <= max_dev_s * fps:
            out[i] = slope * i + icept
    return out


def _subframe(frames: np.ndarray, pb: np.ndarray) -> np.ndarray:
    """Frames moved to the parabola's vertex through the activation at f - 1, f, f + 1 (within half a frame):
    beat times finer than the 11.6 ms grid, so a re-encoded copy of the song gives the same beats."""
    f = np.clip(frames, 1, len(pb) - 2)
    a, b, c = pb[f - 1], pb[f], pb[f + 1]
    den = a - 2 * b + c
    delta = np.where(np.abs(den) > 1e-9, 0.5 * (a - c) / np.where(den == 0, 1, den), 0.0)
    return np.maximum(0.0, frames + np.clip(delta, -0.5, 0.5))


def _local_gain(act: np.ndarray, fps: float, seconds: float = 6.0, floor: float = 0.05) -> np.ndarray:
    """Activations scaled by the beat activation's running maximum (over `seconds`), so that a quiet intro
    or a fade-out, where the network is less sure, keeps clear peaks instead of letting the tempo wander.
    Both rows get the beat row's gain: scaling the downbeat row by its own maximum made every half-sure
    downbeat a sure one (beat 3 of a 4/4 bar as strong as beat 1), and the bar phase a coin toss."""
    from scipy.ndimage import maximum_filter1d  # deferred: see the module docstring

    top = maximum_filter1d(act[0], size=int(seconds * fps) | 1, mode="nearest")  # (T,)
    return np.clip(act / np.maximum(top, floor)[None, :], 0.0, 1.0)


def _pooled(act: np.ndarray, k: int) -> np.ndarray:
    """(2, ceil(T / k)): the max over each run of k frames."""
    t = act.shape[1]
    padded = np.pad(act, ((0, 0), (0, -t % k)))
    return padded.reshape(act.shape[0], -1, k).max(axis=2)


def _refined(frames: np.ndarray, pb: np.ndarray) -> np.ndarray:
    """Each coarse beat moved to the strongest beat activation within REFINE full-rate frames of it."""
    offsets = np.arange(-REFINE, POOL + REFINE)
    idx = np.clip(frames[:, None] + offsets[None, :], 0, len(pb) - 1)  # (N, POOL + 2)
    return idx[np.arange(len(frames)), np.argmax(pb[idx], axis=1)]


def _lead_in(frames: np.ndarray, pos: np.ndarray, meter: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Beats continued back to the song's first frame at the first beats' period: the network has no onset
    context before the start, so a song that opens on a beat would lose it (silence is dropped later)."""
    if len(frames) < 3:
        return frames, pos
    period = float(np.median(np.diff(frames[:5])))
    extra = []
    t = frames[0] - period
    while t >= -0.03 * fps:
        extra.append(max(0, int(round(t))))
        t -= period
    if not extra:
        return frames, pos
    n = len(extra)
    before = (pos[0] - np.arange(n, 0, -1)) % meter
    return np.concatenate([extra[::-1], frames]).astype(frames.dtype), np.concatenate([before, pos])


def _before_ring_out(frames: np.ndarray, pb: np.ndarray, onset: np.ndarray | None = None,
                     share: float = TAIL_SHARE) -> np.ndarray:
    """Mask dropping the trailing beats of a ring-out or reverb tail, through which the Viterbi keeps
    counting after the music has stopped. With the onset strength (T,): a sudden stop, where no onset
    after the last clearly heard beat reaches a fifth of those just before it (a fade-out weakens
    gradually and keeps its beats). Then, or without it, the trailing beats where the network hears
    almost nothing (under `share` of the median beat)."""
    keep = np.ones(len(frames), dtype=bool)
    if len(frames) < 8:
        return keep
    i = len(frames)
    if onset is not None:
        on = peak_near(onset, frames)
        clear = np.flatnonzero(on >= 0.5 * np.median(on))
        if len(clear) and clear[-1] + 1 < i:
            last = int(clear[-1])
            if on[last + 1 :].max() < 0.2 * np.median(on[max(0, last - 7) : last + 1]):
                i = last + 1
    strength = peak_near(pb, frames)
    while i > 0 and strength[i - 1] < share * np.median(strength):
        i -= 1
    keep[i:] = False
    return keep


def _audible(frames: np.ndarray, rms: np.ndarray, fps: float) -> np.ndarray:
    """Mask of beats that are not in digital silence (lead-in, tail)."""
    if not len(frames) or not len(rms):
        return np.ones(len(frames), dtype=bool)
    w = max(1, int(fps))
    loud = np.convolve(rms**2, np.ones(w) / w, mode="same")
    db = 10 * np.log10(np.maximum(loud, 1e-20) / (loud.max() + 1e-20))
    return db[np.clip(frames, 0, len(db) - 1)] > SILENCE_DB


def tempo_confidence(pb: np.ndarray, frames: np.ndarray) -> float:
    if len(frames) < 8:
        return 0.0
    on = peak_near(pb, frames)
    mids = peak_near(pb, (frames[:-1] + frames[1:]) // 2)
    mid_ratio = mids.mean() / (on.mean() + 1e-9)  # ~1: the half-way points are beats too
    even, odd = on[0::2].mean(), on[1::2].mean()
    alt_ratio = min(even, odd) / (max(even, odd) + 1e-9)  # ~0: every other "beat" is not one
    return float(np.clip(min(1.0 - mid_ratio, alt_ratio) * 1.25, 0.0, 1.0))


def meter_confidence(runs: dict, best, n_beats: int) -> float:
    others = [d.score for m, d in runs.items() if m != best.meter]
    if not others:
        return 1.0
    bars = max(1.0, n_beats / best.meter)
    margin = (best.score - max(others)) / bars  # log-likelihood per bar
    return float(1.0 - np.exp(-margin / 0.5))


def tempo_from_beats(beats: np.ndarray) -> float:
    """Median tempo (BPM) over 8-beat spans: robust to single misplaced beats and frame quantisation."""
    if len(beats) < 2:
        return 0.0
    k = min(8, len(beats) - 1)
    spans = (beats[k:] - beats[:-k]) / k
    return float(60.0 / np.median(spans))
