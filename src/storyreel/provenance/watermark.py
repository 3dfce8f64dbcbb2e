"""An invisible watermark in every output frame: DWT-DCT spread spectrum on luma.

The method (the DWT-DCT family of the `invisible-watermark` package, made
robust to re-encoding and resizing and vectorised so it costs a few
milliseconds a frame):

1. DWT: the frame's luma is reduced to its Haar LL band (half size; every
   LL sample is 2 × the mean of a 2×2 pixel block). Changes made there are
   constant over 2×2 pixels, which 4:2:0 video and half-size downscaling keep.
2. DCT: the LL band is cut into 8×8 blocks (16×16 pixels) and two low
   frequencies of each block's DCT, (0,1) and (1,0), carry one chip each.
   Low frequencies survive H.264 quantisation and a 2× downscale.
3. Spread spectrum: each of the 64 payload bits is spread over ~1/64th of the
   chips (a fixed pseudo-random assignment), each chip with its own ±1
   key sign. A chip is embedded by pushing its coefficient's signed value
   x·v up to at least `strength` (by at most `cap`): coefficients that
   already agree are left alone, so the change is small (at most ~4 grey
   levels at the defaults, PSNR ~45-47 dB; a faint 16-pixel texture can be
   seen on flat dark areas when zoomed in) and sign-based, hence immune to the contrast
   loss that breaks quantisation (QIM) watermarks such as `imwatermark`'s
   dwtDct under re-encoding.
4. Detection correlates every chip with its key sign, sums per bit over all
   chips of all sampled frames, and takes the sign. Content that is not
   watermarked gives sums that do not agree with the key (the key signs
   whiten any structure in the picture), so its bit accuracy against the
   storyreel payload is ~50%; a bit with no evidence at all (a black frame)
   counts as wrong. `THRESHOLD` (0.8) bit accuracy means "watermarked".

The chip layout depends only on the frame size (and the fixed public key),
so a frame resized after encoding is resized back to the embedding size
before detection (`detect` tries the size a manifest names, the video's own
size, 2× it and the common output sizes in between). Frames of at least
about 320×180 are needed for a reliable read from a few frames.

This is a provenance signal, not a security feature: the key is public, so
anyone with storyreel can read it and a determined person can remove it.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import av
import cv2
import numpy as np

WATERMARK_VERSION = 1
PAYLOAD = b"storyrl" + bytes([WATERMARK_VERSION])  # 64 bits: magic "storyrl" + format version
METHOD = f"storyreel-dwt-dct-ss/{WATERMARK_VERSION}"
KEY = 0x5107_2EE1  # public chip-layout seed
BLOCK = 8  # LL-band block (16×16 pixels)
COEFS = ((0, 1), (1, 0))  # DCT coefficients carrying chips
STRENGTH = 12.0  # target |coefficient| in LL units (LL = 2 × pixel mean)
CAP = 24.0  # at most this much change per coefficient
THRESHOLD = 0.8  # bit accuracy at or above which a video counts as watermarked
MIN_SIZE = 64  # frames smaller than this (either side) are left as they are
COMMON_SIZES = ((1280, 720), (1920, 1080), (854, 480), (640, 360), (3840, 2160))


@functools.lru_cache(maxsize=4)
def _dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II matrix (n, n): row k is the k-th basis vector."""
    k = np.arange(n)
    d = np.cos(np.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * n)) * np.sqrt(2.0 / n)
    d[0] /= np.sqrt(2.0)
    return d.astype(np.float32)


@functools.lru_cache(maxsize=16)
def _layout(nby: int, nbx: int, n_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(bit index, key sign) of every chip, each (len(COEFS), nby, nbx): fixed for a geometry."""
    rng = np.random.default_rng([KEY, nby, nbx, n_bits])
    n = len(COEFS) * nby * nbx
    bit = np.arange(n) % n_bits  # every bit gets the same number of chips (±1)
    rng.shuffle(bit)
    sign = rng.integers(0, 2, n).astype(np.float32) * 2 - 1
    shape = (len(COEFS), nby, nbx)
    return bit.reshape(shape), sign.reshape(shape)


def payload_bits(payload: bytes) -> np.ndarray:
    """Bytes -> bits (n,) uint8, most significant bit first."""
    if not payload:
        raise ValueError("the watermark payload is empty")
    return np.unpackbits(np.frombuffer(payload, dtype=np.uint8))


def _ll_blocks(rgb: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Luma LL band of an RGB frame cut into blocks: (nby, BLOCK, nbx, BLOCK) float32."""
    h, w = rgb.shape[:2]
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[: h // 2 * 2, : w // 2 * 2]), cv2.COLOR_RGB2GRAY)
    half = cv2.resize(grey, (w // 2, h // 2), interpolation=cv2.INTER_AREA)  # 2×2 means
    nby, nbx = (h // 2) // BLOCK, (w // 2) // BLOCK
    ll = half[: nby * BLOCK, : nbx * BLOCK].astype(np.float32) * 2.0  # Haar LL
    return ll.reshape(nby, BLOCK, nbx, BLOCK), nby, nbx


def _coefficients(blocks: np.ndarray) -> np.ndarray:
    """The chip-carrying DCT coefficients of every block: (len(COEFS), nby, nbx)."""
    d = _dct_matrix(BLOCK)
    rows = {p: np.tensordot(blocks, d[p], axes=([1], [0])) for p in {p for p, _ in COEFS}}  # (nby, nbx, BLOCK)
    return np.stack([rows[p] @ d[q] for p, q in COEFS])


class Watermarker:
    """Embeds `payload` into RGB frames of one size (see module docstring)."""

    def __init__(self, payload: bytes = PAYLOAD, *, strength: float = STRENGTH, cap: float = CAP):
        self.bits = payload_bits(payload)
        self.strength, self.cap = float(strength), float(cap)
        d = _dct_matrix(BLOCK)
        self._basis = np.stack([np.outer(d[p], d[q]) for p, q in COEFS])  # (K, BLOCK, BLOCK)
        self._signs = (1.0 - 2.0 * self.bits).astype(np.float32)  # bit 0 -> +1, bit 1 -> -1

    def embed(self, rgb: np.ndarray) -> np.ndarray:
        """A watermarked copy of one (H, W, 3) uint8 RGB frame (frames under MIN_SIZE are returned as they are)."""
        h, w = rgb.shape[:2]
        if h < MIN_SIZE or w < MIN_SIZE:
            return rgb
        blocks, nby, nbx = _ll_blocks(rgb)
        v = _coefficients(blocks)  # (K, nby, nbx)
        bit, sign = _layout(nby, nbx, len(self.bits))
        x = self._signs[bit] * sign  # target sign of each chip: bit 0 -> +key, bit 1 -> -key
        change = np.clip(self.strength - x * v, 0.0, self.cap) * x  # (K, nby, nbx)
        d_ll = np.einsum("kab,kij->aibj", change, self._basis, optimize=True)  # (nby, BLOCK, nbx, BLOCK)
        d_px = np.rint(d_ll.reshape(nby * BLOCK, nbx * BLOCK) * 0.5)  # LL change -> per-pixel change (Haar), half size
        pad = ((0, h // 2 - nby * BLOCK), (0, w // 2 - nbx * BLOCK))
        hh, ww = h // 2 * 2, w // 2 * 2
        rgb = np.ascontiguousarray(rgb)
        flat = rgb[:hh, :ww].reshape(hh, ww * 3) if (hh, ww) == (h, w) else np.ascontiguousarray(rgb[:hh, :ww]).reshape(hh, ww * 3)
        for part, op in ((np.maximum(d_px, 0), cv2.add), (np.maximum(-d_px, 0), cv2.subtract)):
            part = part.astype(np.uint8)
            if pad[0][1] or pad[1][1]:
                part = np.pad(part, pad)
            # nearest-neighbour to (hh, 3·ww): each LL sample covers 2×2 pixels × 3 channels of the interleaved rows
            flat = op(flat, cv2.resize(part, (ww * 3, hh), interpolation=cv2.INTER_NEAREST))
        if (hh, ww) == (h, w):
            return flat.reshape(h, w, 3)
        out = rgb.copy()
        out[:hh, :ww] = flat.reshape(hh, ww, 3)
        return out


def watermark_frames(frames: Iterable[np.ndarray], payload: bytes = PAYLOAD, *, seconds: list[float] | None = None,
                     **kw) -> Iterator[np.ndarray]:
    """Yield every frame watermarked with `payload` (streaming; same shapes and dtype).

    seconds: a one-element list the embedding time is added to (for timing reports).
    """
    wm = Watermarker(payload, **kw)
    for frame in frames:
        t = time.perf_counter()
        marked = wm.embed(frame)
        if seconds is not None:
            seconds[0] += time.perf_counter() - t
        yield marked


@dataclass
class Reading:
    """What detection found in a set of frames."""

    detected: bool
    bit_accuracy: float  # against the expected payload (bits with no evidence count as wrong)
    payload: bytes  # the decoded bits as bytes
    frames: int  # frames that were read
    size: tuple[int, int] | None  # (width, height) the frames were resized to for detection
    confidence: float  # mean |per-bit correlation| per chip, 0..1 (0 = no evidence)
    expected: bytes = PAYLOAD
    tried: list[tuple[tuple[int, int], float]] = field(default_factory=list)  # (size, accuracy) per size tried

    @property
    def payload_text(self) -> str:
        """The payload as text where it is printable (the magic), with the format version."""
        magic, ver = self.payload[:-1], self.payload[-1]
        try:
            text = magic.decode("ascii")
        except UnicodeDecodeError:
            text = ""
        if text.isprintable() and text:
            return f"{text} v{ver}"
        return self.payload.hex()

    def to_dict(self) -> dict:
        return {
            "detected": self.detected,
            "bit_accuracy": round(self.bit_accuracy, 4),
            "payload_hex": self.payload.hex(),
            "payload": self.payload_text,
            "bits_misread": int(np.unpackbits(np.frombuffer(bytes(a ^ b for a, b in zip(self.payload, self.expected)),
                                                            dtype=np.uint8)).sum()) if len(self.payload) == len(self.expected) else None,
            "expected_hex": self.expected.hex(),
            "frames": self.frames,
            "size": list(self.size) if self.size else None,
            "confidence": round(self.confidence, 4),
            "method": METHOD,
            "threshold": THRESHOLD,
        }


def correlate(frames: Iterable[np.ndarray], n_bits: int = len(PAYLOAD) * 8, size: tuple[int, int] | None = None,
              strength: float = STRENGTH) -> tuple[np.ndarray, int, int]:
    """Per-bit sums of key-signed chip evidence over `frames` (each resized to `size` (W, H) first).

    Returns (sums (n_bits,), frames used, chips used).
    """
    sums = np.zeros(n_bits)
    used = chips = 0
    for rgb in frames:
        if size is not None and (rgb.shape[1], rgb.shape[0]) != tuple(size):
            rgb = cv2.resize(rgb, tuple(size), interpolation=cv2.INTER_CUBIC)
        if rgb.shape[0] < MIN_SIZE or rgb.shape[1] < MIN_SIZE:
            continue
        blocks, nby, nbx = _ll_blocks(rgb)
        v = _coefficients(blocks)
        bit, sign = _layout(nby, nbx, n_bits)
        evidence = np.clip(v / strength, -1.0, 1.0) * sign
        sums += np.bincount(bit.ravel(), weights=evidence.ravel(), minlength=n_bits)
        used += 1
        chips += bit.size
    return sums, used, chips


def read_bits(frames: Sequence[np.ndarray], expected: bytes = PAYLOAD, size: tuple[int, int] | None = None) -> Reading:
    """Decode the payload from frames (at one detection size) and score it against `expected`."""
    want = payload_bits(expected)
    sums, used, chips = correlate(frames, len(want), size)
    bits = (sums < 0).astype(np.uint8)  # positive evidence = key sign = bit 0
    known = np.abs(sums) > 1e-9
    accuracy = float(np.mean((bits == want) & known)) if used else 0.0
    confidence = float(np.abs(sums).sum() / chips) if chips else 0.0
    return Reading(accuracy >= THRESHOLD, accuracy, np.packbits(bits).tobytes(), used, size, confidence, expected)


def detect_frames(frames: Sequence[np.ndarray], expected: bytes = PAYLOAD,
                  sizes: Sequence[tuple[int, int]] | None = None) -> Reading:
    """Best reading over candidate detection sizes: `sizes` (e.g. a manifest's), the frames' own size, 2× it,
    and the common output sizes between the two (a video downscaled after storyreel made it)."""
    if not frames:
        return Reading(False, 0.0, b"", 0, None, 0.0, expected)
    h, w = frames[0].shape[:2]
    larger = [s for s in COMMON_SIZES if w < s[0] < 2 * w and abs(s[0] / s[1] - w / h) < 0.02]  # downscaled from
    candidates = list(dict.fromkeys([tuple(s) for s in (sizes or [])] + [(w, h), (w * 2, h * 2)] + larger))
    best: Reading | None = None
    tried = []
    for size in candidates:
        r = read_bits(frames, expected, size)
        tried.append((size, r.bit_accuracy))
        if best is None or (r.bit_accuracy, r.confidence) > (best.bit_accuracy, best.confidence):
            best = r
        if r.bit_accuracy >= 0.999:
            break
    assert best is not None
    best.tried = tried
    return best


def sample_video_frames(path: str | os.PathLike, max_frames: int = 16) -> list[np.ndarray]:
    """Up to `max_frames` RGB frames spread over a video: its keyframes when it has enough, else evenly spaced."""
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        stream.thread_type = "AUTO"
        keys = [f.to_ndarray(format="rgb24") for f in c.decode(stream)]
    if len(keys) >= min(8, max_frames):
        idx = np.linspace(0, len(keys) - 1, min(max_frames, len(keys))).round().astype(int)
        return [keys[i] for i in sorted(set(idx))]
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        total = stream.frames or 0
        step = max(1, total // max_frames) if total else 1
        out = []
        for i, f in enumerate(c.decode(stream)):
            if i % step == 0:
                out.append(f.to_ndarray(format="rgb24"))
                if len(out) >= max_frames:
                    break
    return out


def detect(path: str | os.PathLike, *, max_frames: int = 16, sizes: Sequence[tuple[int, int]] | None = None,
           expected: bytes = PAYLOAD) -> Reading:
    """Read the storyreel watermark from a video file (see `detect_frames`)."""
    return detect_frames(sample_video_frames(path, max_frames), expected, sizes)


__all__ = [
    "PAYLOAD", "METHOD", "THRESHOLD", "WATERMARK_VERSION", "Watermarker", "watermark_frames", "Reading",
    "read_bits", "detect_frames", "detect", "sample_video_frames", "payload_bits", "correlate",
]
