"""The one module of test material: songs and music maps, hand-built plans and takes, test backends, storyboards.

Test backends are real VideoModels (they inherit VideoModelBase and declare
their capabilities); `use_backend` puts one in the registry under a name, the
way any backend family is added, so the pipeline and the CLI run unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import threading
import time
from pathlib import Path
from typing import Optional, Sequence

import cv2
import numpy as np
import pytest
import soundfile as sf

from storyreel import world
from storyreel.models import registry
from storyreel.models.base import Clip, NativeFormat, VideoModelBase
from storyreel.music import MusicMap, Section
from storyreel.plan import CameraMove, Shot, ShotPlan, Transition

NATIVE_8FPS = NativeFormat(fps=8.0, frames=16, height=48, width=80, size_multiple=16, frame_rule=(2, 0))

# ---------------------------------------------------------------- songs and music maps

# Typical loudness of each kind of section, so energy ranks come out as in a real song.
SECTION_ENERGY = {"intro": 0.2, "verse": 0.5, "chorus": 0.9, "bridge": 0.6, "outro": 0.3}
DEMO_SECTIONS = [("intro", 8), ("verse", 16), ("chorus", 16), ("verse", 16), ("chorus", 16), ("bridge", 12),
                 ("chorus", 16), ("outro", 8)]


def make_music_map(
    bpm: float = 100.0,
    bars: Optional[int] = None,
    beats_per_bar: int = 4,
    sections: Optional[Sequence[tuple]] = None,
    offset: float = 0.0,
    *,
    tail: float = 0.5,
    jitter: float = 0.0,
    seed: int = 0,
    named: bool = True,
    energy_fps: float = 24.0,
) -> MusicMap:
    """A MusicMap on an exact grid: `bars` bars (or the sum of `sections`) starting at `offset` seconds.

    sections: (name, bars) or (name, bars, energy) tuples. Equal names share a
    label (A, B, ...); energy defaults by name (SECTION_ENERGY) and sets the
    energy rank. named=False leaves Section.name empty, as audio analysis
    does. jitter: each beat moves by up to +-jitter seconds (seeded), for an
    irregular grid; the last beat is followed by `tail` seconds of song.
    """
    sections = list(sections or [("song", bars or 8)])
    total_bars = sum(s[1] for s in sections)
    if bars is not None and bars != total_bars:
        raise ValueError(f"bars={bars} but sections add up to {total_bars}")
    rng = random.Random(seed)
    period = 60.0 / bpm
    n_beats = total_bars * beats_per_bar
    beats = [offset + i * period + (rng.uniform(-jitter, jitter) if jitter and i else 0.0) for i in range(n_beats)]
    downbeats = beats[::beats_per_bar]
    duration = beats[-1] + period + tail
    labels: dict[str, str] = {}
    energies = {s[0]: (s[2] if len(s) > 2 else SECTION_ENERGY.get(s[0], 0.5)) for s in sections}
    ranks = {e: r for r, e in enumerate(sorted(set(energies.values())))}
    out, bar = [], 0
    for spec in sections:
        name, n = spec[0], spec[1]
        label = labels.setdefault(name, chr(ord("A") + len(labels)))
        start = downbeats[bar]
        end = downbeats[bar + n] if bar + n < len(downbeats) else duration
        out.append(Section(start=start, end=end, label=label, energy=energies[name],
                           energy_rank=ranks[energies[name]], name=name if named else ""))
        bar += n
    frames = int(duration * energy_fps)
    energy = []
    for f in range(frames):
        t = f / energy_fps
        current = next((s for s in reversed(out) if s.start <= t), out[0])
        energy.append(current.energy)
    return MusicMap(duration=duration, tempo=bpm, beats=beats, downbeats=downbeats, beats_per_bar=beats_per_bar,
                    sections=out, energy_fps=energy_fps, energy=energy, onsets=[0.0] * frames)


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


def make_song(path: Path, seconds: float, sr: int = 22050, channels: int = 1) -> Path:
    """Write a short WAV (a 220 Hz tone with a click every half second)."""
    t = np.arange(int(seconds * sr)) / sr
    sig = 0.2 * np.sin(2 * np.pi * 220 * t)
    sig[(t % 0.5) < 0.01] += 0.5
    data = np.stack([sig] * channels, -1) if channels > 1 else sig
    sf.write(path, data.astype(np.float32), sr)
    return path


def write_project(folder: Path, storyboard: str, seconds: float, name: str = "board.yaml") -> Path:
    """A storyboard file beside a click-track `song.wav` of `seconds`; returns the storyboard's path."""
    make_song(folder / "song.wav", seconds)
    (folder / name).write_text(storyboard)
    return folder / name


# ---------------------------------------------------------------- plans and takes


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
    characters: dict[str, dict] | None = None,
    shot_characters: list[list[str]] | None = None,
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
                characters=shot_characters[i] if shot_characters else [],
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
        characters=characters or {},
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


def flickering(take: np.ndarray, amount: int = 30) -> np.ndarray:
    """The take with its brightness jumping up and down by `amount` on alternate frames."""
    offsets = np.where(np.arange(len(take)) % 2, amount, -amount)[:, None, None, None]
    return np.clip(take.astype(np.int16) + offsets, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- test backends


class RecordingModel(VideoModelBase):
    """Frames encode (seed, frame index); given first frames lead the clip; every request is recorded."""

    name = "recording"
    native = NATIVE_8FPS

    def __init__(self, capabilities=frozenset({"t2v", "i2v", "extend", "connect"})):
        self.capabilities = frozenset(capabilities)
        self.requests = []

    def identity(self):
        return "recording:1"

    def frames_for(self, req) -> np.ndarray:
        frames = np.zeros((req.frames, req.height, req.width, 3), np.uint8)
        frames[..., 0] = req.seed % 200
        frames[..., 1] = np.arange(req.frames)[:, None, None] * 8
        if req.first_frames is not None:
            frames[: len(req.first_frames)] = req.first_frames
        return frames

    def generate(self, req, progress=None):
        self.requests.append(req)
        return Clip(self.frames_for(req), self.native.fps, req, {"model": self.name})


class LoggingModel(RecordingModel):
    """RecordingModel frames; each generation logged as a JSON line (across processes), optionally waiting for
    another named shot to run at the same time (`rendezvous`), or dying once in the middle of one (`die_on`)."""

    name = "logging"

    def __init__(self, log: Path, *, delay: float = 0.0, die_on: str | None = None, rendezvous: dict | None = None):
        super().__init__(frozenset({"t2v", "i2v", "extend"}))
        self.log, self.delay, self.die_on, self.rendezvous = str(log), delay, die_on, rendezvous or {}

    def identity(self):
        return "logging:1"

    def generate(self, req, progress=None):
        start = time.time()
        meet = self.rendezvous.get(req.prompt) or self.rendezvous.get(f"seed {req.seed}")
        if meet:  # wait until the other named shot (or take) is also running: proves they run in parallel
            mine, other = (Path(p) for p in meet)
            mine.touch()
            deadline = time.time() + 60
            while not other.exists():
                if time.time() > deadline:
                    raise TimeoutError(f"{req.prompt}: the other chain never ran at the same time")
                time.sleep(0.02)
        if self.die_on == req.prompt:
            marker = Path(self.log + ".died")
            if not marker.exists():
                marker.touch()
                os._exit(1)  # the worker dies mid-task
        time.sleep(self.delay)
        frames = self.frames_for(req)
        with open(self.log, "a") as f:
            f.write(json.dumps({"prompt": req.prompt, "pid": os.getpid(), "start": start, "end": time.time(),
                                "conditioned": req.first_frames is not None}) + "\n")
        return Clip(frames, self.native.fps, req, {"model": self.name})


class StillModel(VideoModelBase):
    """Image conditioning whose clips hold one picture still (so only the camera moves).

    Without conditioning the picture is a smooth seeded texture; with
    `first_frames` it is that frame, held.
    """

    name = "still"
    capabilities = frozenset({"t2v", "i2v", "extend"})
    native = NATIVE_8FPS

    def identity(self):
        return "still:1"

    def generate(self, req, progress=None):
        if req.first_frames is not None:
            picture = req.first_frames[0]
        else:
            rng = np.random.default_rng(req.seed % 2**32)
            noise = rng.uniform(0, 255, (req.height // 2, req.width // 2, 3)).astype(np.float32)
            picture = np.clip(cv2.resize(noise, (req.width, req.height), interpolation=cv2.INTER_CUBIC), 0, 255)
            picture = picture.astype(np.uint8)
        frames = np.broadcast_to(picture, (req.frames, *picture.shape)).copy()
        return Clip(frames, self.native.fps, req, {"model": self.name})


class WorldModel(VideoModelBase):
    """A fast stand-in: the procedural world's drawing of a random scene per seed; no image conditioning."""

    name = "worldfake"
    capabilities = frozenset({"t2v", "extend"})
    native = NativeFormat(fps=8.0, frames=16, height=48, width=80, size_multiple=16, frame_rule=(1, 0))
    calls = 0

    def identity(self):
        return "worldfake:1"

    def reading(self, prompt):
        return f"one scene of the world for '{prompt.split(',')[0]}'"

    def generate(self, req, progress=None):
        WorldModel.calls += 1
        return Clip(world.sample(req.seed % 100_000, req.height, req.width, req.frames).video, self.native.fps, req)


class FlickerModel(VideoModelBase):
    """A steady picture per prompt; every take except the ones in `clean` flickers."""

    name = "flicker"
    capabilities = frozenset({"t2v"})
    native = NativeFormat(fps=8.0, frames=64, height=48, width=80, size_multiple=16, frame_rule=(1, 0))

    def __init__(self, clean=None, clean_take: int = 1):
        self.clean, self.clean_take, self.requests = clean, clean_take, []

    def identity(self):
        return "flicker:1"

    def is_clean(self, seed: int) -> bool:
        if self.clean is not None:
            return seed in self.clean
        return seed // 1_000_003 == self.clean_take  # make_plan seeds are small: the quotient is the take

    def generate(self, req, progress=None):
        self.requests.append(req)
        prompt_seed = int.from_bytes(hashlib.sha256(req.prompt.encode()).digest()[:4], "big")
        frames = make_take(req.frames, req.height, req.width, seed=prompt_seed)
        if not self.is_clean(req.seed):
            frames = flickering(frames, 20 + req.seed % 7)
        return Clip(frames, self.native.fps, req, {"model": self.name})


class ExplodingModel(VideoModelBase):
    """Fails the test the moment anything but its name and capabilities is used: proves nothing was generated."""

    name = "exploding"
    capabilities = frozenset({"t2v", "i2v", "extend"})

    def __getattr__(self, item):
        raise AssertionError("the model was used: generation was not stopped")


def use_backend(monkeypatch, model, name: str = "builtin", opened: list | None = None) -> None:
    """Serve `model` as backend `name` from the registry for this test, declaring its capabilities.

    `opened`: a list the name is appended to whenever the backend is opened (to prove it was not).
    """
    def open_model(n, options, device):
        if opened is not None:
            opened.append(n)
        return model

    entry = registry.Backend(family="test", serves=lambda n: n == name, capabilities=lambda n, o: model.capabilities,
                             parse_options=lambda mapping: None, open=open_model, names=lambda: [name])
    monkeypatch.setattr(registry, "BACKENDS", [entry, *registry.BACKENDS])  # asked first; undone after the test


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


# ---------------------------------------------------------------- provenance material

SIZE = (640, 360)  # the watermark needs frames of a few hundred pixels; 720p is what render writes


def world_frames(seed: int, n: int, size=SIZE) -> list[np.ndarray]:
    """n frames of a world video at `size` (bicubic up from the native 80x48)."""
    return [cv2.resize(f, size, interpolation=cv2.INTER_CUBIC) for f in world.sample(seed, 48, 80, n).video]


@pytest.fixture(scope="module")
def c2pa_credentials(tmp_path_factory):
    """A throw-away test CA and signing certificate (needs the c2pa extra)."""
    pytest.importorskip("cryptography")
    pytest.importorskip("c2pa")
    from storyreel.provenance.c2pa_sign import make_test_credentials

    return make_test_credentials(tmp_path_factory.mktemp("keys"))


# ---------------------------------------------------------------- the studio

STUDIO_TOKEN = "test-token-0123456789"  # the studio's token in its tests

STUDIO_BOARD = """\
# A small storyboard for the studio's tests: comments and key order must survive its edits.
title: Studio test   # the title
song: song.wav
model: nocond
output: {size: 160x96, fps: 24}
style: flat colours
characters:
  she: a red heart   # the lead
timeline:
  - {at: 0, era: in a day sky}
shots:
  - {prompt: "{she} stays still", length: 1 bar}   # the opening
  - prompt: a blue square moves up
    length: 1 bar
    transition: {kind: crossfade, beats: 1}
  - a green star grows       # plain-string shot
"""


def studio_project(folder: Path, monkeypatch, board: str = STUDIO_BOARD, seconds: float = 8.0) -> Path:
    """A studio test project: the storyboard beside an 8 s click song, the fast world backend as `nocond`,
    caches inside `folder`; returns the storyboard's path."""
    use_backend(monkeypatch, WorldModel(), name="nocond")
    monkeypatch.setenv("STORYREEL_CACHE", str(folder / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder / "xdg"))
    monkeypatch.delenv("STORYREEL_C2PA_CERT", raising=False)
    monkeypatch.delenv("STORYREEL_C2PA_KEY", raising=False)
    project = folder / "project"
    project.mkdir()
    return write_project(project, board, seconds)


# ---------------------------------------------------------------- a real browser for the studio
# Debian's chromium driven by Playwright (never `playwright install`).

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required"]


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright  # noqa: F401  (only to see that it is installed)
    except ImportError:
        return "playwright is not installed (pip install 'storyreel[test]')"
    if not Path(CHROMIUM).exists():
        return "chromium is not installed (apt-get install -y chromium; .ci/run installs it)"
    return None


class Running:
    """A studio's uvicorn server on a free port in a thread of the test process (so test backends apply)."""

    def __init__(self, served):
        self.served, self.url = served, served.url
        self.thread = threading.Thread(target=served.server.run, name="studio-test-server", daemon=True)

    def __enter__(self) -> "Running":
        self.thread.start()
        deadline = time.time() + 30
        while not self.served.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise RuntimeError("the studio server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.served.server.should_exit = True
        self.thread.join(10)
        self.served.studio.close()


def serve_studio_with_slow_backend(board: str, port: int, token: str, log: str, delay: float) -> None:
    """Run a studio in this (child) process with a LoggingModel as `nocond` that takes `delay` s per take
    (the kill test: its parent kills this process mid-generation)."""
    from storyreel.studio.server import make_server

    model = LoggingModel(Path(log), delay=delay)
    entry = registry.Backend(family="test", serves=lambda n: n == "nocond", capabilities=lambda n, o: model.capabilities,
                             parse_options=lambda mapping: None, open=lambda n, o, d: model, names=lambda: ["nocond"])
    registry.BACKENDS.insert(0, entry)
    make_server(board, port=port, token=token).server.run()
