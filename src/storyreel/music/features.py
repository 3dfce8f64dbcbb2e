"""Step 1 of the analysis: one STFT and everything derived from it, on one frame grid.

One STFT (11.6 ms hop) gives log-mel onset strength in three bands (low =
kick/bass, mid, high = hats), chroma, MFCC and loudness; the onset envelopes
the later steps follow are weighted sums of those bands.

librosa and scipy are imported inside the functions that need them: together they take seconds to import,
and a render whose analysis is cached needs neither.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


def beat_envelope(feats: Features) -> np.ndarray:
    """Onset envelope the beat tracker follows: full-band flux plus the low band at equal weight.

    The low band (kick, bass) marks the beat far more reliably than hats, which would
    otherwise pull the tracker onto off-beat eighths.
    """
    return scaled(feats.onset) + scaled(feats.bands[0])


def accent_envelope(feats: Features) -> np.ndarray:
    """Low + mid band flux: kick, bass and snare bodies without the hats' eighth-note chatter.

    Used to estimate tempo and to judge metrical levels, where hats mislead most.
    """
    return scaled(feats.bands[0]) + scaled(feats.bands[1])


def scaled(x: np.ndarray) -> np.ndarray:
    """Divide by the standard deviation, so bands of different loudness weigh alike."""
    return x / (np.std(x) + 1e-9)


def zscore(x: np.ndarray) -> np.ndarray:
    return (x - np.mean(x)) / (np.std(x) + 1e-9)


def unit(x: np.ndarray) -> np.ndarray:
    """Scale to 0..1 by the 99th percentile, so one freak peak does not flatten the rest."""
    top = float(np.percentile(x, 99.0)) or float(np.max(x)) or 1.0
    return np.clip(x / top, 0.0, 1.0)
