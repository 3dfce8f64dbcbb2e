"""The generator interface every backend implements, and the plain data it speaks.

The rest of storyreel never knows which model it talks to: it builds a
GenerationRequest, calls `generate`, and gets a Clip back. Backends adapt sizes
and frame counts to their own grids explicitly and report what they did in
`Clip.info`; they never silently change what was asked.

`VideoModel` declares everything storyreel may ask of a backend. `name`,
`capabilities`, `native`, `generate` and `identity` are the backend's own;
the rest (`size_for`, `check_available`, `adherence`, `device`, `options`, `parallel_jobs`,
`billed_seconds`, `use_cache`, `camera_lora_for`) have defaults in `VideoModelBase`, which every backend inherits, so
callers call them directly and never probe a backend with getattr or ask it
for its name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

# t2v: text only; i2v: start from given frames (continuity); extend: continue a clip; connect: land on a last frame;
# v2v: restyle a video; reference: use a character reference image; long: one generation makes a shot of any
# length (diffusion forcing), so models.chain asks for the whole shot at once instead of chaining extensions.
CAPABILITIES = frozenset({"t2v", "i2v", "extend", "connect", "v2v", "reference", "long"})


@dataclass(frozen=True)
class NativeFormat:
    """What a backend generates natively: fps, frames per generation, size grid and frame-count rule."""

    fps: float
    frames: int  # frames in one native generation
    height: int
    width: int
    size_multiple: int = 8  # height and width must be multiples of this
    frame_rule: tuple[int, int] = (1, 0)  # valid counts are a*k + b (e.g. (4, 1) for 4k+1)

    def valid_frames(self, n: int) -> int:
        """The smallest valid frame count >= n."""
        a, b = self.frame_rule
        k = max(0, -(-(n - b) // a))
        return a * k + b


@dataclass
class GenerationRequest:
    """Everything that determines one generation. Frames are uint8 (T, H, W, 3)."""

    prompt: str
    seed: int = 0
    height: int = 48
    width: int = 80
    frames: int = 16
    negative_prompt: str = ""
    steps: int | None = None  # sampler steps; None = backend default
    guidance: float | None = None
    first_frames: np.ndarray | None = None  # continue from these (image-to-video / extension)
    last_frames: np.ndarray | None = None  # land on these (connecting, loops)
    video: np.ndarray | None = None  # restyle this (video-to-video)
    strength: float = 0.6  # how much of `video` to re-generate, 0..1
    reference_image: np.ndarray | None = None  # a character reference, for backends that take one
    camera: str | None = None  # a storyreel camera move the backend makes itself (its camera_lora_for it)

    def conditioning_summary(self) -> dict:
        """Which kinds of conditioning this request carries (for plans and logs)."""
        return {
            "first_frames": 0 if self.first_frames is None else int(len(self.first_frames)),
            "last_frames": 0 if self.last_frames is None else int(len(self.last_frames)),
            "video": self.video is not None,
        }


@dataclass
class Clip:
    """Generated frames (T, H, W, 3) uint8 at `fps`, with the request that made them."""

    frames: np.ndarray
    fps: float
    request: GenerationRequest | None = None
    info: dict = field(default_factory=dict)  # what the backend actually generated (grid adaptation etc.)

    @property
    def duration(self) -> float:
        return len(self.frames) / self.fps


StepProgress = Callable[[int, int], None]  # (steps done, steps in all) of one generation


@runtime_checkable
class VideoModel(Protocol):
    """A text-to-video generator."""

    name: str
    capabilities: frozenset[str]  # words of CAPABILITIES
    native: NativeFormat
    options: Any  # the backend's options (registry.get_model(name, options) opens it again elsewhere), or None

    def generate(self, req: GenerationRequest, progress: StepProgress | None = None) -> Clip: ...

    def identity(self) -> str:
        """A string that changes whenever the weights change (part of cache keys)."""
        ...

    def size_for(self, width: int, height: int) -> tuple[int, int]:
        """(height, width) to generate at for an output of width x height, on the backend's grid."""
        ...

    def upsample(self, frames: np.ndarray) -> np.ndarray:
        """Its super-resolution stage over native frames (T, H, W, 3) uint8 -> (T, H', W', 3); identity without one."""
        ...

    def check_available(self) -> None:
        """Raise StoryreelError now (before any work) if the weights are not here; cheap."""
        ...

    def adherence(self, frames: np.ndarray, prompt: str) -> float | None:
        """How well frames (T, H, W, 3) uint8 show `prompt`, 0..1, or None when the backend cannot judge."""
        ...

    def reading(self, prompt: str) -> str | None:
        """What the backend will draw for `prompt`, in its own words, when it reads prompts through a planner
        of its own (so a user sees a misread word before the clip); None when the prompt goes to it as written."""
        ...

    @property
    def device(self) -> str:
        """Where it runs: "cpu", "cuda" (any GPU: executors place one instance per GPU), "cuda:1", "mps"."""
        ...


class VideoModelBase:
    """The defaults of VideoModel's optional methods; every backend inherits them."""

    options: Any = None

    def size_for(self, width: int, height: int) -> tuple[int, int]:
        """Its native size: the edit crops and scales to the output."""
        return self.native.height, self.native.width  # type: ignore[attr-defined]

    def upsample(self, frames: np.ndarray) -> np.ndarray:
        """A backend's super-resolution stage over its native frames (T, H, W, 3); none here: the frames as they are."""
        return frames

    def check_available(self) -> None:
        """Nothing to check: the backend has what it needs."""
        return None

    def adherence(self, frames: np.ndarray, prompt: str) -> float | None:
        """No judge of prompts: take scoring leaves adherence out."""
        return None

    def reading(self, prompt: str) -> str | None:
        """The prompt goes to the model as written."""
        return None

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def parallel_jobs(self) -> int:
        """Generations it can usefully run at once in this process (hosted APIs: jobs in flight per provider)."""
        return 1

    def billed_seconds(self, frames: int) -> float:
        """Seconds of video one generation of `frames` frames counts as (the cost estimate)."""
        return frames / self.native.fps  # type: ignore[attr-defined]

    def camera_lora_for(self, move: str) -> str | None:
        """The camera LoRA the backend applies for storyreel move `move`, or None: storyreel's edit moves the
        camera (the default). A shot whose move the backend makes gets a static camera in the edit."""
        return None

    def use_cache(self, root) -> None:
        """The take cache this render uses (hosted backends keep their job records there); nothing by default."""
        return None
