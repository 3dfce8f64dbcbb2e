"""MusicMap: what the song is (tempo, beats, bars, sections, energy), from audio with librosa.

The pipeline, each step a small function over arrays:

1. features   one STFT (11.6 ms hop) gives log-mel onset strength in three bands
              (low = kick/bass, mid, high = hats), chroma, MFCC and loudness.
2. tempo      an autocorrelation tempogram of the kick/snare accents, with a broad
              prior, picks the global period; a per-frame estimate near that period
              follows a drifting tempo (ramps) without octave jumps.
3. beats      Ellis' dynamic-programming tracker, run at the tempogram's period and at
              its metrical neighbours (x2, /2, 3:2, 2:3); the grid that best explains the
              accents, has eighths between its beats and stays regular is the beat.
4. downbeats  per-beat "bar-start evidence" (harmonic change + low-band accent);
              the meter (3 vs 4) is the period that folds that evidence sharpest, and
              a small Viterbi over bar positions picks the phase, allowing rare resets.
5. sections   bar-synchronous timbre/harmony/rhythm kernels, optimal kernel change-point
              segmentation (so boundaries are downbeats by construction), then
              agglomerative grouping of the segments into repeat labels A, B, A', ...
6. energy     smoothed loudness and onset strength sampled per output frame.

Results are cached as JSON keyed by the audio's sha256 and the parameters.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .audio import MAX_SECONDS, atomic_path, audio_hash, load_audio
from .errors import StoryreelError


@dataclass
class Section:
    """A stretch of the song between two downbeats, labelled so repeats share a letter."""

    start: float
    end: float
    label: str  # "A", "B", "A'", ...
    energy: float  # mean loudness, 0..1 relative to the song
    energy_rank: int  # 0 = quietest section group
    name: str = ""  # intro / verse / chorus ... when known (e.g. from a generator's ground truth)


@dataclass
class MusicMap:
    """The song's musical grid and shape. Times in seconds."""

    duration: float
    tempo: float  # BPM (median)
    beats: list[float]
    downbeats: list[float]
    beats_per_bar: int
    sections: list[Section]
    energy_fps: float = 24.0
    energy: list[float] = field(default_factory=list)  # smoothed loudness per frame at energy_fps, 0..1
    onsets: list[float] = field(default_factory=list)  # onset strength per frame at energy_fps, 0..1
    sample_rate: int = 22050
    source: str = ""  # path of the analysed file
    audio_hash: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "MusicMap":
        d = dict(d)
        d["sections"] = [Section(**s) for s in d.get("sections", [])]
        return cls(**d)


# --- constants ------------------------------------------------------------------------------------

ANALYSIS_VERSION = 1  # bump when results change, so stale cache entries are ignored
SR = 22050
N_FFT = 2048
HOP = 256  # 11.6 ms: beat times land within ~6 ms of the detected onset frame
N_MELS = 96
LOW_HZ, HIGH_HZ = 160.0, 2500.0  # onset bands: kick/bass | body | hats/snare noise
TEMPO_RANGE = (50.0, 220.0)  # BPM the tracker considers for the beat level
TEMPO_RATIOS = (1.0, 2.0, 0.5, 1.5, 2.0 / 3.0)  # metrical neighbours of the tempogram's period tried
METERS = (3, 4)  # meters detected automatically; others only via beats_per_bar
TIMBRE_MFCC = 7  # MFCC 1-6: the broad spectral envelope (instrumentation), not the chord's pitches

Progress = Callable[[str, float], None]  # (stage, fraction of the whole analysis done)


# --- public API -----------------------------------------------------------------------------------


def analyze(
    path: str | os.PathLike,
    *,
    beats_per_bar: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    fps: float = 24.0,
    progress: Progress | None = None,
    use_cache: bool = True,
    max_seconds: float = MAX_SECONDS,
) -> MusicMap:
    """Analyse the song at `path` into a MusicMap, reusing a cached result for identical audio.

    beats_per_bar: force the meter (e.g. 3); None detects 3/4 vs 4/4 (4/4 when unsure).
    cache_dir: where results are cached (default ~/.cache/storyreel/analysis).
    fps: rate of the energy/onset curves (the video's frame rate).
    progress: called as progress(stage, fraction) while working.
    """
    _check_params(beats_per_bar, fps)
    report = progress or _no_progress
    digest = audio_hash(path)
    params = {"version": ANALYSIS_VERSION, "beats_per_bar": beats_per_bar, "fps": float(fps), "sr": SR}
    cache_file = _cache_file(cache_dir, digest, params) if use_cache else None
    if cache_file is not None:
        cached = _read_cache(cache_file, params)
        if cached is not None:
            cached.source = str(path)
            report("cached", 1.0)
            return cached

    report("load", 0.0)
    y, sr = load_audio(path, sr=SR, max_seconds=max_seconds)
    mm = analyze_audio(y, sr, beats_per_bar=beats_per_bar, fps=fps, progress=report)
    mm.source, mm.audio_hash = str(path), digest
    if cache_file is not None:
        _write_json_atomic(cache_file, {"params": params, "music_map": mm.to_dict()})
    return mm


def analyze_audio(
    y: np.ndarray,
    sr: int = SR,
    *,
    beats_per_bar: int | None = None,
    fps: float = 24.0,
    progress: Progress | None = None,
) -> MusicMap:
    """Analyse mono samples (no file, no cache): the pure core of `analyze`."""
    _check_params(beats_per_bar, fps)
    report = progress or _no_progress
    y = np.asarray(y, dtype=np.float32)
    if sr != SR:
        import librosa

        y, sr = librosa.resample(y, orig_sr=sr, target_sr=SR, res_type="soxr_hq"), SR
    duration = len(y) / sr

    report("features", 0.05)
    feats = compute_features(y, sr)
    report("beats", 0.45)
    beat_frames = track_beats(feats)
    beats = feats.frame_times(beat_frames)
    report("downbeats", 0.6)
    meter, is_downbeat = find_downbeats(feats, beat_frames, beats_per_bar)
    downbeats = beats[is_downbeat]
    report("sections", 0.7)
    energy_frames = loudness_curve(feats)
    sections = find_sections(feats, beat_frames, np.flatnonzero(is_downbeat), energy_frames, duration)
    report("energy", 0.95)
    mm = MusicMap(
        duration=round(duration, 6),
        tempo=round(tempo_from_beats(beats), 3),
        beats=_rounded(beats),
        downbeats=_rounded(downbeats),
        beats_per_bar=meter,
        sections=sections,
        energy_fps=float(fps),
        energy=_rounded(sample_per_frame(feats, energy_frames, fps, duration, "mean"), 4),
        onsets=_rounded(sample_per_frame(feats, _unit(feats.onset), fps, duration, "max"), 4),
        sample_rate=sr,
    )
    report("done", 1.0)
    return mm


def plot(music_map: MusicMap, audio_path: str | os.PathLike, out_png: str | os.PathLike) -> Path:
    """Draw waveform, energy, beats, downbeats and labelled sections to a PNG (written atomically)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    y, sr = load_audio(audio_path, sr=SR, max_seconds=max(MAX_SECONDS, music_map.duration + 1))
    mm = music_map
    fig = Figure(figsize=(14, 5), dpi=100)
    FigureCanvasAgg(fig)
    ax_w, ax_e = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})

    # Waveform as a min/max envelope per pixel column: exact look, no 5M-point line.
    cols = 2000
    hop = max(1, len(y) // cols)
    n = len(y) // hop * hop
    blocks = y[:n].reshape(-1, hop)
    t = (np.arange(blocks.shape[0]) + 0.5) * hop / sr
    ax_w.fill_between(t, blocks.min(axis=1), blocks.max(axis=1), color="0.35", linewidth=0)

    colors = ["#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5"]
    groups = sorted({s.label.rstrip("'") for s in mm.sections})
    for s in mm.sections:
        c = colors[groups.index(s.label.rstrip("'")) % len(colors)]
        for ax in (ax_w, ax_e):
            ax.axvspan(s.start, s.end, color=c, alpha=0.45, linewidth=0)
        name = f"{s.label} {s.name}".strip()
        ax_w.text((s.start + s.end) / 2, 1.02, name, ha="center", va="bottom", fontsize=9, transform=ax_w.get_xaxis_transform())
    ax_w.vlines(mm.beats, -1, 1, color="tab:blue", linewidth=0.3, alpha=0.5, label="beats")
    ax_w.vlines(mm.downbeats, -1, 1, color="tab:red", linewidth=0.8, alpha=0.8, label="downbeats")
    ax_w.set_ylim(-1.05, 1.05)
    ax_w.set_ylabel("amplitude")
    ax_w.legend(loc="lower right", fontsize=8)
    ax_w.set_title(f"{Path(mm.source).name or 'song'}: {mm.tempo:.1f} BPM, {mm.beats_per_bar}/4", pad=18)

    ft = np.arange(len(mm.energy)) / mm.energy_fps
    ax_e.plot(ft, mm.onsets, color="0.6", linewidth=0.5, label="onsets")
    ax_e.plot(ft, mm.energy, color="black", linewidth=1.2, label="energy")
    for s in mm.sections:
        ax_e.hlines(s.energy, s.start, s.end, color="tab:red", linewidth=2)
    ax_e.set_ylim(0, 1.05)
    ax_e.set_xlim(0, mm.duration)
    ax_e.set_xlabel("seconds")
    ax_e.legend(loc="upper right", fontsize=8)
    fig.tight_layout()

    out = Path(out_png)
    with atomic_path(out, ".png") as tmp:
        fig.savefig(tmp, format="png")
    return out


# --- 1. features ----------------------------------------------------------------------------------


@dataclass
class Features:
    """Frame-level features on one time grid (frame k is centred at k * hop / sr)."""

    sr: int
    hop: int
    n_samples: int
    onset: np.ndarray  # (T,) log-mel spectral flux, all bands
    bands: np.ndarray  # (3, T) flux in low / mid / high bands
    chroma: np.ndarray  # (12, T)
    mfcc: np.ndarray  # (13, T)
    rms: np.ndarray  # (T,) linear RMS

    @property
    def n_frames(self) -> int:
        return len(self.onset)

    def frame_times(self, frames: np.ndarray) -> np.ndarray:
        return np.asarray(frames, dtype=np.float64) * self.hop / self.sr

    def time_frames(self, times: np.ndarray) -> np.ndarray:
        return np.clip(np.round(np.asarray(times) * self.sr / self.hop).astype(int), 0, self.n_frames - 1)


def compute_features(y: np.ndarray, sr: int) -> Features:
    """One STFT, everything else derived from it (that keeps a 4-minute song to a few seconds)."""
    import librosa

    power = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)) ** 2  # (1 + N_FFT/2, T)
    mel_db = librosa.power_to_db(
        librosa.feature.melspectrogram(S=power, sr=sr, n_mels=N_MELS), ref=np.max, top_db=80.0
    )
    centres = librosa.mel_frequencies(n_mels=N_MELS + 2, fmax=sr / 2)[1:-1]
    lo, hi = int(np.searchsorted(centres, LOW_HZ)), int(np.searchsorted(centres, HIGH_HZ))
    # lag=2 frames (23 ms): flux over a musically meaningful step, not over heavily overlapped windows
    bands = librosa.onset.onset_strength_multi(
        S=mel_db, sr=sr, hop_length=HOP, lag=2, center=False, channels=[0, lo, hi, N_MELS]
    )  # (3, T): mean flux per band
    widths = np.array([lo, hi - lo, N_MELS - hi], dtype=np.float64)
    onset = (widths @ bands) / N_MELS
    chroma = librosa.feature.chroma_stft(S=power, sr=sr, tuning=0.0)  # tuning=0: skip the slow estimate
    mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=13)
    rms = librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP)[0]
    t = min(len(onset), chroma.shape[1], mfcc.shape[1], len(rms))
    return Features(sr, HOP, len(y), onset[:t], bands[:, :t], chroma[:, :t], mfcc[:, :t], rms[:t])


# --- 2./3. tempo and beats ------------------------------------------------------------------------


def beat_envelope(feats: Features) -> np.ndarray:
    """Onset envelope the beat tracker follows: full-band flux plus the low band at equal weight.

    The low band (kick, bass) marks the beat far more reliably than hats, which would
    otherwise pull the tracker onto off-beat eighths.
    """
    return _scaled(feats.onset) + _scaled(feats.bands[0])


def accent_envelope(feats: Features) -> np.ndarray:
    """Low + mid band flux: kick, bass and snare bodies without the hats' eighth-note chatter.

    Used to estimate tempo and to judge metrical levels, where hats mislead most.
    """
    return _scaled(feats.bands[0]) + _scaled(feats.bands[1])


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


# --- 4. downbeats ---------------------------------------------------------------------------------


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
    return _z(change) + 0.25 * _z(low)


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


# --- 5. sections ----------------------------------------------------------------------------------


def bar_features(feats: Features, bar_frames: np.ndarray) -> dict[str, np.ndarray]:
    """Per bar (rows): timbre (MFCC 1-6), harmony (chroma), rhythm texture (band flux), loudness (dB)."""
    rows: dict[str, list[np.ndarray]] = {"timbre": [], "harmony": [], "rhythm": [], "loudness": []}
    for a, b in zip(bar_frames[:-1], bar_frames[1:]):
        b = max(b, a + 1)
        rows["timbre"].append(feats.mfcc[1:TIMBRE_MFCC, a:b].mean(axis=1))
        c = feats.chroma[:, a:b].mean(axis=1)
        rows["harmony"].append(c / (np.linalg.norm(c) + 1e-9))
        rows["rhythm"].append(np.log1p(feats.bands[:, a:b].mean(axis=1)))
        rows["loudness"].append(np.atleast_1d(20 * np.log10(feats.rms[a:b].mean() + 1e-9)))
    return {k: np.array(v) for k, v in rows.items()}


# Kernel weights. Timbre and rhythm texture say which instruments play: the surest sign of a new
# section. Harmony weighs little here because chords change *within* sections too (a verse
# without an internal repeat would split at its chord changes); it counts more for labels.
KERNEL_WEIGHTS = {"timbre": 0.45, "rhythm": 0.3, "harmony": 0.1, "loudness": 0.15}


def bar_kernel(groups: dict[str, np.ndarray]) -> np.ndarray:
    """Weighted mean of per-group Gaussian kernels over bars, each scaled by its median distance."""
    from scipy.spatial.distance import pdist, squareform

    n = len(next(iter(groups.values())))
    k = np.zeros((n, n))
    for name, x in groups.items():
        d = squareform(pdist(x, "sqeuclidean"))
        scale = np.median(d[np.triu_indices(n, 1)]) if n > 1 else 1.0
        k += KERNEL_WEIGHTS[name] * np.exp(-d / (scale + 1e-9))
    return k / sum(KERNEL_WEIGHTS[g] for g in groups)


SECTION_PENALTY_S = 3.0  # cost of one more section, in seconds of kernel scatter (tuned on bench/)


def segment_bars(kernel: np.ndarray, penalty: float = 1.25, min_bars: int = 2) -> list[int]:
    """Optimal kernel change-point segmentation: indices of the first bar of each segment.

    Cost of a segment = its scatter in the kernel's feature space (n - block_sum / n);
    each extra segment costs `penalty` (in bars of scatter). Exact dynamic programme, O(bars^2).
    """
    n = len(kernel)
    if n <= min_bars:
        return [0]
    cum = np.zeros((n + 1, n + 1))
    cum[1:, 1:] = kernel.cumsum(0).cumsum(1)
    diag = np.concatenate([[0.0], np.cumsum(np.diag(kernel))])

    def cost(a: np.ndarray, b: int) -> np.ndarray:  # segments [a, b) for many a
        block = cum[b, b] - cum[a, b] - cum[b, a] + cum[a, a]
        return (diag[b] - diag[a]) - block / (b - a)

    best = np.full(n + 1, np.inf)
    best[0] = 0.0
    prev = np.zeros(n + 1, dtype=int)
    for b in range(min_bars, n + 1):
        a = np.arange(0, b - min_bars + 1)
        a = a[np.isfinite(best[a])]
        if len(a) == 0:
            continue
        total = best[a] + cost(a, b) + penalty
        j = int(np.argmin(total))
        best[b], prev[b] = total[j], a[j]
    if not np.isfinite(best[n]):
        return [0]
    starts, b = [], n
    while b > 0:
        starts.append(int(prev[b]))
        b = prev[b]
    return sorted(starts)


def label_segments(kernel: np.ndarray, starts: list[int], threshold: float = 0.35) -> list[str]:
    """Letters by first appearance; segments alike enough share a letter, variants get a prime.

    Similarity of two segments = mean kernel over their cross block, normalised by their
    self-similarity (so a noisy segment can still match its repeat).
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    bounds = list(starts) + [len(kernel)]
    segs = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    n = len(segs)
    if n == 1:
        return ["A"]
    sim = np.array([[kernel[p, q].mean() for q in segs] for p in segs])
    norm = np.sqrt(np.outer(np.diag(sim), np.diag(sim)))
    dist = np.clip(1.0 - sim / norm, 0.0, None)
    np.fill_diagonal(dist, 0.0)
    cond = dist[np.triu_indices(n, 1)]
    clusters = fcluster(linkage(cond, method="average"), t=threshold, criterion="distance")
    letters: dict[int, str] = {}
    first: dict[int, int] = {}
    labels = []
    for i, c in enumerate(clusters):
        if c not in letters:
            letters[c] = _letter(len(letters))
            first[c] = i
            labels.append(letters[c])
            continue
        j = first[c]
        length_i, length_j = segs[i].stop - segs[i].start, segs[j].stop - segs[j].start
        variant = dist[i, j] > threshold / 2 or abs(length_i - length_j) > 0.25 * length_j
        labels.append(letters[c] + ("'" if variant else ""))
    return labels


def find_sections(
    feats: Features,
    beat_frames: np.ndarray,
    downbeat_idx: np.ndarray,
    energy_frames: np.ndarray,
    duration: float,
) -> list[Section]:
    """Sections tiling [0, duration], with inner boundaries on downbeats."""
    if len(downbeat_idx) < 3:
        e = float(energy_frames.mean()) if len(energy_frames) else 0.0
        return [Section(0.0, round(duration, 6), "A", round(e, 4), 0)]
    db_frames = beat_frames[downbeat_idx]
    bar_len = int(np.median(np.diff(db_frames)))
    bar_frames = np.concatenate([db_frames, [min(feats.n_frames, db_frames[-1] + bar_len)]])
    groups = bar_features(feats, bar_frames)
    kernel = bar_kernel(groups)
    # The penalty is in seconds of scatter, so a slow song's long bars count for their length.
    bar_seconds = bar_len * feats.hop / feats.sr
    starts = segment_bars(kernel, penalty=SECTION_PENALTY_S / bar_seconds)
    starts = _merge_faded_tail(starts, groups["loudness"][:, 0])
    labels = label_segments(kernel, starts)

    times = feats.frame_times(db_frames)
    edges = [0.0] + [float(times[s]) for s in starts[1:]] + [duration]
    sections = []
    for (a, b), label in zip(zip(edges[:-1], edges[1:]), labels):
        fa, fb = feats.time_frames([a, b])
        e = float(energy_frames[fa : max(fb, fa + 1)].mean())
        sections.append(Section(round(a, 6), round(b, 6), label, round(e, 4), 0))
    _rank_energy(sections)
    _guess_names(sections)
    return sections


def _merge_faded_tail(starts: list[int], bar_db: np.ndarray, drop_db: float = 20.0) -> list[int]:
    """Fold trailing segments that are mostly fade-out (>20 dB under the song's loud bars) into
    the segment before: a fade changes every feature without being a new section."""
    loud = float(np.percentile(bar_db, 95))
    starts = list(starts)
    while len(starts) > 1 and np.median(bar_db[starts[-1] :]) < loud - drop_db:
        starts.pop()
    return starts


def _rank_energy(sections: list[Section]) -> None:
    """energy_rank per label group (A and A' together): 0 = the quietest group."""
    groups: dict[str, list[float]] = {}
    for s in sections:
        groups.setdefault(s.label.rstrip("'"), []).append(s.energy)
    order = sorted(groups, key=lambda g: np.mean(groups[g]))
    for s in sections:
        s.energy_rank = order.index(s.label.rstrip("'"))


def _guess_names(sections: list[Section]) -> None:
    """Pop-form names from repetition and energy (a heuristic; the labels are the real result).

    The loudest group heard somewhere other than only at the very start or end is the chorus;
    the first repeated other group (else the part just before the first chorus) the verse; a
    quieter first/last section the intro/outro; a one-off between choruses the bridge.
    """
    if len(sections) < 2:
        return
    base = [s.label.rstrip("'") for s in sections]
    energy = {g: float(np.mean([s.energy for s, b in zip(sections, base) if b == g])) for g in base}
    inner = {g for g in base[1:-1]} or set(base)
    chorus = max(inner, key=lambda g: energy[g])
    repeated = [g for g in dict.fromkeys(base) if base.count(g) > 1 and g != chorus]
    first_chorus = base.index(chorus)
    verse = repeated[0] if repeated else (base[first_chorus - 1] if first_chorus > 1 else None)
    for s, g in zip(sections, base):
        s.name = "chorus" if g == chorus else "verse" if g == verse else ""
    median_e = float(np.median([s.energy for s in sections]))
    if sections[0].energy < median_e and base[0] not in (chorus, verse):
        sections[0].name = "intro"
    if sections[-1].energy < median_e and base[-1] != chorus and (base[-1] != verse or base.count(verse) == 1):
        sections[-1].name = "outro"
    chorus_at = [i for i, g in enumerate(base) if g == chorus]
    for i, (s, g) in enumerate(zip(sections, base)):
        if not s.name and base.count(g) == 1 and chorus_at[0] < i < chorus_at[-1]:
            s.name = "bridge"


# --- 6. energy ------------------------------------------------------------------------------------


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


# --- cache ----------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "storyreel" / "analysis"


def _cache_file(cache_dir: str | os.PathLike | None, digest: str, params: dict) -> Path:
    import hashlib

    tag = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    return Path(cache_dir or default_cache_dir()) / f"{digest[:32]}-{tag}.json"


def _read_cache(path: Path, params: dict) -> MusicMap | None:
    """The cached MusicMap, or None when absent, unreadable or made with other parameters."""
    try:
        data = json.loads(path.read_text())
        if data.get("params") != params:
            return None
        return MusicMap.from_dict(data["music_map"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged entry is recomputed and overwritten


def _write_json_atomic(path: Path, data: dict) -> None:
    try:
        with atomic_path(path, ".json") as tmp:
            Path(tmp).write_text(json.dumps(data))
    except OSError:
        pass  # the cache is an optimisation: an unwritable cache dir must not fail the analysis


# --- helpers --------------------------------------------------------------------------------------


def _check_params(beats_per_bar: int | None, fps: float) -> None:
    if beats_per_bar is not None and (not isinstance(beats_per_bar, int) or not 2 <= beats_per_bar <= 12):
        raise StoryreelError(f"must be a whole number from 2 to 12, got {beats_per_bar!r}", field="beats_per_bar")
    if not fps > 0:
        raise StoryreelError(f"must be positive, got {fps!r}", field="fps")


def _no_progress(stage: str, fraction: float) -> None:
    pass


def _scaled(x: np.ndarray) -> np.ndarray:
    """Divide by the standard deviation, so bands of different loudness weigh alike."""
    return x / (np.std(x) + 1e-9)


def _z(x: np.ndarray) -> np.ndarray:
    return (x - np.mean(x)) / (np.std(x) + 1e-9)


def _unit(x: np.ndarray) -> np.ndarray:
    """Scale to 0..1 by the 99th percentile, so one freak peak does not flatten the rest."""
    top = float(np.percentile(x, 99.0)) or float(np.max(x)) or 1.0
    return np.clip(x / top, 0.0, 1.0)


def _letter(i: int) -> str:
    return chr(ord("A") + i) if i < 26 else f"Z{i - 25}"


def _rounded(x: np.ndarray, digits: int = 6) -> list[float]:
    return [round(float(v), digits) for v in x]
