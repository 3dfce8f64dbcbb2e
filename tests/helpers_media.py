"""Small hand-built plans, takes and songs for the camera/edit/encode/export tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from storyreel.music import MusicMap
from storyreel.plan import CameraMove, Shot, ShotPlan, Transition


def make_plan(
    lengths: list[int],
    *,
    fps: int = 24,
    width: int = 160,
    height: int = 90,
    cameras: list[CameraMove] | None = None,
    transitions: list[Transition] | None = None,
    sections: list[str] | None = None,
    title: str = "test reel",
    song: str = "song.wav",
) -> ShotPlan:
    """A ShotPlan whose shots have the given lengths in output frames, back to back from frame 0."""
    shots, edge = [], 0
    for i, n in enumerate(lengths):
        shots.append(
            Shot(
                index=i,
                start_frame=edge,
                end_frame=edge + n,
                start=edge / fps,
                end=(edge + n) / fps,
                prompt=f"prompt {i}",
                text=f"shot {i}",
                seed=100 + i,
                camera=cameras[i] if cameras else CameraMove(),
                transition=transitions[i] if transitions else Transition(),
                section=sections[i] if sections else "A",
                bars=1.0,
            )
        )
        edge += n
    return ShotPlan(
        title=title,
        fps=fps,
        width=width,
        height=height,
        frames=edge,
        duration=edge / fps,
        model="builtin",
        song=song,
        shots=shots,
        seed=7,
    )


def make_take(n: int = 16, h: int = 48, w: int = 80, seed: int = 0) -> np.ndarray:
    """A (n, h, w, 3) uint8 take: a smooth colour gradient with a bright square moving across it."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(40, 200, size=3)
    y, x = np.mgrid[0:h, 0:w]
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    for t in range(n):
        img = np.stack([base[c] + 40 * np.sin(x / w * 3 + y / h * 2 + c + t * 0.2) for c in range(3)], -1)
        cx = int((t / max(1, n - 1)) * (w - 10))
        img[h // 3 : h // 3 + 10, cx : cx + 10] = 250
        frames[t] = np.clip(img, 0, 255).astype(np.uint8)
    return frames


def constant_take(value: tuple[int, int, int], n: int = 8, h: int = 48, w: int = 80) -> np.ndarray:
    """A (n, h, w, 3) take of one flat colour."""
    return np.broadcast_to(np.array(value, dtype=np.uint8), (n, h, w, 3)).copy()


def index_take(n: int, h: int = 8, w: int = 8) -> np.ndarray:
    """A take whose frame t is flat grey level 10·t: resampled values reveal source positions."""
    return np.stack([np.full((h, w, 3), 10 * t, dtype=np.uint8) for t in range(n)])


def make_song(path: Path, seconds: float, sr: int = 22050, channels: int = 1) -> Path:
    """Write a short WAV (a 220 Hz tone with a click every half second)."""
    t = np.arange(int(seconds * sr)) / sr
    sig = 0.2 * np.sin(2 * np.pi * 220 * t)
    sig[(t % 0.5) < 0.01] += 0.5
    data = np.stack([sig] * channels, -1) if channels > 1 else sig
    sf.write(path, data.astype(np.float32), sr)
    return path


def make_music(seconds: float, fps: float = 24.0, seed: int = 0) -> MusicMap:
    """A MusicMap with a smooth random energy curve and sparse onsets."""
    rng = np.random.default_rng(seed)
    n = int(seconds * fps)
    energy = np.convolve(rng.uniform(0, 1, n + 24), np.ones(24) / 24, mode="valid")[:n]
    onsets = np.zeros(n)
    onsets[:: int(fps // 2)] = 1.0
    return MusicMap(
        duration=seconds,
        tempo=120.0,
        beats=list(np.arange(0, seconds, 0.5)),
        downbeats=list(np.arange(0, seconds, 2.0)),
        beats_per_bar=4,
        sections=[],
        energy_fps=fps,
        energy=list(energy),
        onsets=list(onsets),
    )
