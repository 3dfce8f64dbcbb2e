"""The beat/downbeat network at analysis time: a log-mel front end and a small dilated TCN, in numpy.

The network (as in Böck & Davies' TCN beat trackers and Beat This!) reads a log-mel spectrogram and its
positive difference, and gives per frame the probability of a beat and of a downbeat. It was trained with
torch (music.beatnet_train); here it runs in plain numpy, so analysis imports neither torch nor numba and
starts in well under a second. The weights ship in the package as safetensors.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

SR = 22050
N_FFT = 2048
HOP = 256  # 86.1 frames per second, the grid of music.features too
N_MELS = 80
FMIN, FMAX = 30.0, 11000.0
WEIGHTS_PATH = Path(__file__).with_name("beatnet.safetensors")


def fps(hop: float = HOP) -> float:
    return SR / hop


@lru_cache(maxsize=4)
def mel_filters(n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """(n_mels, 1 + n_fft // 2) triangular filters on the mel scale, each summing to 1."""
    def mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    def hz(m):
        return 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)

    edges = hz(np.linspace(mel(FMIN), mel(FMAX), n_mels + 2))
    freqs = np.linspace(0.0, SR / 2, 1 + n_fft // 2)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    w = np.maximum(0.0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)))
    w /= w.sum(axis=1, keepdims=True) + 1e-12
    return w.astype(np.float32)


def stft_magnitude(y: np.ndarray, hop: float = HOP) -> np.ndarray:
    """(1 + N_FFT // 2, T) float32 |STFT| with a Hann window, frames centred at k * hop / SR (zero padded).

    `hop` may be fractional: training stretches time by changing it.
    """
    y = np.asarray(y, dtype=np.float32)
    n_frames = max(1, int(np.floor(len(y) / hop)) + 1)
    pad = np.pad(y, (N_FFT // 2, N_FFT // 2 + 1))
    starts = np.round(np.arange(n_frames) * hop).astype(np.int64)
    window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)
    mag = np.empty((1 + N_FFT // 2, n_frames), dtype=np.float32)
    whole = float(hop).is_integer()
    view = np.lib.stride_tricks.sliding_window_view(pad, N_FFT)[:: int(hop)] if whole else None
    for a in range(0, n_frames, 1024):  # chunks keep the frame matrix small for long songs
        frames = view[a : a + 1024] if whole else pad[starts[a : a + 1024, None] + np.arange(N_FFT)[None, :]]
        mag[:, a : a + 1024] = np.abs(np.fft.rfft(frames * window, axis=1)).T
    return mag


def network_input(mag: np.ndarray) -> np.ndarray:
    """(2 * N_MELS, T) network input from |STFT|: standardised log-mel magnitude and its positive 2-frame
    difference."""
    mel = mel_filters() @ mag  # (N_MELS, T)
    spec = np.log1p(100.0 * mel / (np.max(mel) + 1e-9))  # level-invariant: relative to the loudest bin
    spec = (spec - spec.mean()) / (spec.std() + 1e-6)
    diff = np.zeros_like(spec)
    diff[:, 2:] = np.maximum(0.0, spec[:, 2:] - spec[:, :-2])
    return np.concatenate([spec, diff], axis=0)  # (2 * N_MELS, T)


def spectrogram_input(y: np.ndarray, hop: float = HOP) -> np.ndarray:
    """(2 * N_MELS, T) network input of mono samples y at SR."""
    return network_input(stft_magnitude(y, hop))


def _elu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _dilated(x: np.ndarray, w: np.ndarray, b: np.ndarray, d: int) -> np.ndarray:
    """Non-causal conv of x (C_in, T) with w (C_out, C_in, 3) at dilation d, zero padded: (C_out, T)."""
    t = x.shape[1]
    xp = np.pad(x, ((0, 0), (d, d)))
    return w[:, :, 0] @ xp[:, :t] + w[:, :, 1] @ x + w[:, :, 2] @ xp[:, 2 * d : 2 * d + t] + b[:, None]


def forward(weights: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """(2, T) beat and downbeat probabilities for the input x (2 * N_MELS, T). Mirrors beatnet_train.Net."""
    h = _elu(weights["inp.weight"][:, :, 0] @ x + weights["inp.bias"][:, None])  # (C, T)
    i = 0
    while f"blocks.{i}.conv.weight" in weights:
        p = f"blocks.{i}."
        z = _elu(_dilated(h, weights[p + "conv.weight"], weights[p + "conv.bias"], 2**i))
        h = h + weights[p + "mix.weight"][:, :, 0] @ z + weights[p + "mix.bias"][:, None]
        i += 1
    logits = weights["out.weight"][:, :, 0] @ _elu(h) + weights["out.bias"][:, None]  # (2, T)
    return _sigmoid(logits)


@lru_cache(maxsize=2)
def load_weights(path: str | None = None) -> dict[str, np.ndarray]:
    """The shipped weights (or those at `path`), as float32 arrays."""
    from safetensors.numpy import load_file  # deferred: only analysis without a cache hit needs it

    return {k: v.astype(np.float32) for k, v in load_file(str(path or WEIGHTS_PATH)).items()}


def activations(y: np.ndarray, path: str | None = None) -> np.ndarray:
    """(2, T) beat/downbeat probabilities of mono samples y at SR, on the HOP grid."""
    return forward(load_weights(path), spectrogram_input(y))
