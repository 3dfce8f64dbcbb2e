"""The song -> MusicMap: the analysis steps in order, with a cache keyed by the audio's sha256.

The steps, each a small module of functions over arrays:

1. features   (music.features)  one STFT: onset strength in three bands, chroma, MFCC, loudness.
2. network    (music.beatnet)   a small TCN gives per frame the probability of a beat and of a downbeat.
3. tracking   (music.tracking)  a bar-pointer Viterbi picks tempo, meter and bar phase jointly, with confidences.
4. sections   (music.sections)  kernel change-point segmentation on bars, repeats grouped into labels.
6. energy     (music.energy)    smoothed loudness and onset strength per output frame.

Results are cached as JSON keyed by the audio's sha256 and the parameters (music.cache).

Everything runs in numpy/scipy: no librosa (its numba kernels cost ~11 s of compilation in every process)
and no torch. soxr is imported only to resample a song that is not at 22,050 Hz.
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np

from ..errors import StoryreelError
from .audio import MAX_SECONDS, audio_hash, load_audio
from .beatnet import forward, load_weights, network_input, stft_magnitude
from .cache import cache_file, read_cache, write_cache
from .energy import loudness_curve, sample_per_frame
from .features import SR, compute_features, unit
from .musicmap import MusicMap
from .sections import find_sections
from .subdivision import subdivision, time_signature
from .tracking import tempo_from_beats, track

ANALYSIS_VERSION = 6  # bump when results change, so stale cache entries are ignored


Progress = Callable[[str, float], None]  # (stage, fraction of the whole analysis done)


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

    beats_per_bar: force the meter (e.g. 3); None detects 2, 3 or 4 beats a bar (4 when unsure); whether
        each beat is in two or three (6/8, 12/8) is always detected.
    cache_dir: where results are cached (default ~/.cache/storyreel/analysis).
    fps: rate of the energy/onset curves (the video's frame rate).
    progress: called as progress(stage, fraction) while working.
    """
    _check_params(beats_per_bar, fps)
    report = progress or _no_progress
    digest = audio_hash(path)
    params = {"version": ANALYSIS_VERSION, "beats_per_bar": beats_per_bar, "fps": float(fps), "sr": SR}
    path_in_cache = cache_file(cache_dir, digest, params) if use_cache else None
    if path_in_cache is not None:
        cached = read_cache(path_in_cache, params)
        if cached is not None:
            cached.source = str(path)
            report("cached", 1.0)
            return cached

    report("load", 0.0)
    y, sr = load_audio(path, sr=SR, max_seconds=max_seconds)
    mm = analyze_audio(y, sr, beats_per_bar=beats_per_bar, fps=fps, progress=report)
    mm.source, mm.audio_hash = str(path), digest
    if path_in_cache is not None:
        write_cache(path_in_cache, params, mm)
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
        import soxr  # deferred: only songs at another rate need it

        y, sr = soxr.resample(y, sr, SR, quality="HQ").astype(np.float32), SR
    duration = len(y) / sr

    report("features", 0.05)
    mag = stft_magnitude(y)  # (1 + N_FFT/2, T)
    feats = compute_features(y, sr, mag)
    report("beats", 0.3)
    act = forward(load_weights(), network_input(mag))  # (2, T): beat, downbeat probability per frame
    report("downbeats", 0.5)
    tracked = track(act, sr / feats.hop, feats.rms, beats_per_bar, feats.chroma, feats.onset)
    beat_frames, is_downbeat, meter = tracked.beat_frames, tracked.is_downbeat, tracked.meter
    beats = feats.frame_times(tracked.beat_positions)
    downbeats = beats[is_downbeat]
    sub, _ = subdivision(feats.onset, tracked.beat_positions)  # its confidence has no override to name
    report("sections", 0.7)
    energy_frames = loudness_curve(feats)
    sections = find_sections(feats, beat_frames, np.flatnonzero(is_downbeat), energy_frames, duration)
    _on_downbeats(sections, downbeats)
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
        onsets=_rounded(sample_per_frame(feats, unit(feats.onset), fps, duration, "max"), 4),
        sample_rate=sr,
        confidence=tracked.confidence,
        subdivision=sub,
        time_signature=time_signature(meter, sub),
    )
    report("done", 1.0)
    return mm


def _on_downbeats(sections: list, downbeats: np.ndarray) -> None:
    """Section boundaries at the downbeats' exact (sub-frame) times; sections work on whole frames."""
    for a, b in zip(sections, sections[1:]):
        t = float(downbeats[np.argmin(np.abs(downbeats - b.start))]) if len(downbeats) else b.start
        a.end = b.start = round(t, 6)


def _check_params(beats_per_bar: int | None, fps: float) -> None:
    if beats_per_bar is not None and (not isinstance(beats_per_bar, int) or not 2 <= beats_per_bar <= 12):
        raise StoryreelError(f"must be a whole number from 2 to 12, got {beats_per_bar!r}", field="beats_per_bar")
    if not fps > 0:
        raise StoryreelError(f"must be positive, got {fps!r}", field="fps")


def _no_progress(stage: str, fraction: float) -> None:
    pass


def _rounded(x: np.ndarray, digits: int = 6) -> list[float]:
    return [round(float(v), digits) for v in x]
