"""Step 1 of the analysis: one STFT and everything derived from it, on one frame grid.

One STFT (11.6 ms hop, in numpy) gives log-mel onset strength in three bands (low =
kick/bass, mid, high = hats), chroma, MFCC and loudness; the onset envelopes
feed the sections and the audio-reactive curves (beats come from music.beatnet).

scipy is imported inside the function that needs it: a render whose analysis is cached needs none of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .beatnet import stft_magnitude

SR = 22050
N_FFT = 2048
HOP = 256  # 11.6 ms: beat times land within ~6 ms of the detected onset frame
N_MELS = 96
LOW_HZ, HIGH_HZ = 160.0, 2500.0  # onset bands: kick/bass | body | hats/snare noise


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


def compute_features(y: np.ndarray, sr: int, mag: np.ndarray | None = None) -> Features:
    """One STFT, everything else derived from it, in numpy alone.

    No librosa here: its numba kernels cost ~11 s of compilation at the start of every process.
    mag: the song's |STFT| (beatnet.stft_magnitude) when the caller has it already.
    """
    from scipy.fft import dct  # deferred: see the module docstring

    assert sr == SR, "features are computed at the analysis rate"
    mag = stft_magnitude(y, HOP) if mag is None else mag  # (1 + N_FFT/2, T)
    power = mag.astype(np.float64) ** 2
    mel = _mel_bank(N_MELS) @ power  # (N_MELS, T)
    mel_db = 10.0 * np.log10(np.maximum(mel, 1e-10))
    mel_db = np.maximum(mel_db - mel_db.max(), -80.0)
    centres = _mel_hz(np.linspace(_hz_mel(0.0), _hz_mel(sr / 2), N_MELS + 2))[1:-1]
    lo, hi = int(np.searchsorted(centres, LOW_HZ)), int(np.searchsorted(centres, HIGH_HZ))
    # flux over lag=2 frames (23 ms): a musically meaningful step, not heavily overlapped windows
    flux = np.zeros_like(mel_db)
    flux[:, 2:] = np.maximum(0.0, mel_db[:, 2:] - mel_db[:, :-2])
    bands = np.stack([flux[:lo].mean(axis=0), flux[lo:hi].mean(axis=0), flux[hi:].mean(axis=0)])  # (3, T)
    onset = flux.mean(axis=0)
    chroma = _chroma_bank() @ power  # (12, T)
    chroma /= np.maximum(chroma.max(axis=0, keepdims=True), 1e-10)
    mfcc = dct(mel_db, type=2, norm="ortho", axis=0)[:13]
    frames = np.lib.stride_tricks.sliding_window_view(np.pad(y, N_FFT // 2), N_FFT)[::HOP]
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    t = min(mag.shape[1], len(rms))
    return Features(sr, HOP, len(y), onset[:t], bands[:, :t], chroma[:, :t], mfcc[:, :t], rms[:t])


def _hz_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def _mel_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


@lru_cache(maxsize=2)
def _mel_bank(n_mels: int) -> np.ndarray:
    """(n_mels, 1 + N_FFT/2) triangular mel filters over 0..SR/2, area-normalised."""
    edges = _mel_hz(np.linspace(_hz_mel(0.0), _hz_mel(SR / 2), n_mels + 2))
    freqs = np.linspace(0.0, SR / 2, 1 + N_FFT // 2)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    w = np.maximum(0.0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)))
    return w * (2.0 / (hi - lo))


@lru_cache(maxsize=1)
def _chroma_bank() -> np.ndarray:
    """(12, 1 + N_FFT/2): each bin from 55 Hz to 5 kHz to its pitch class (C = 0), Gaussian in semitones."""
    freqs = np.linspace(0.0, SR / 2, 1 + N_FFT // 2)
    ok = (freqs >= 55.0) & (freqs <= 5000.0)
    pitch = 12.0 * np.log2(np.maximum(freqs, 1.0) / 440.0) + 9.0  # semitones above C
    dist = (pitch[None, :] - np.arange(12)[:, None] + 6.0) % 12.0 - 6.0
    return np.where(ok[None, :], np.exp(-0.5 * (dist / 0.5) ** 2), 0.0)


def scaled(x: np.ndarray) -> np.ndarray:
    """Divide by the standard deviation, so bands of different loudness weigh alike."""
    return x / (np.std(x) + 1e-9)


def zscore(x: np.ndarray) -> np.ndarray:
    return (x - np.mean(x)) / (np.std(x) + 1e-9)


def unit(x: np.ndarray) -> np.ndarray:
    """Scale to 0..1 by the 99th percentile, so one freak peak does not flatten the rest."""
    top = float(np.percentile(x, 99.0)) or float(np.max(x)) or 1.0
    return np.clip(x / top, 0.0, 1.0)
