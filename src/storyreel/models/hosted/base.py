"""What every hosted video API shares behind storyreel's VideoModel interface.

A provider adapter (runway, veo, luma, fal) says only how to talk to its SDK:
`submit` a request and return the job id, `poll` a job, `upload` a
conditioning frame, and `classify` the SDK's exceptions. Everything that
protects the user's money is here, once:

- the key is read from the provider's usual environment variable, and a
  missing key stops the render before any work (`check_available`);
- sizes and durations are the provider's documented ones (`HostedSpec`):
  a request off them is refused, not adapted;
- the job id is on disk (models.hosted.jobstore) before polling starts, so a
  restarted render polls the same job; a finished video is downloaded once
  and checked against its sha256;
- rate limits and server errors are retried (models.hosted.retry); a
  provider-side failure is reported with the provider's reason and never
  resubmitted silently;
- at most `max_concurrent` jobs per provider are in flight at once.
"""

from __future__ import annotations

import base64
import importlib.util
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import StoryreelError
from ..base import Clip, GenerationRequest, NativeFormat, VideoModelBase
from .jobstore import JobRecord, JobStore, default_jobs_dir, request_key
from .retry import Failure, http_failure, with_retries


@dataclass(frozen=True)
class HostedSpec:
    """One hosted model, as its provider documents it."""

    name: str  # storyreel's name: runway-gen4.5, veo-3.1, luma-ray-2, fal-kling-2.1, ...
    provider: str  # runway | veo | luma | fal
    model_id: str  # the provider's own id
    capabilities: frozenset[str]
    fps: float
    sizes: tuple[tuple[int, int], ...]  # (width, height) it delivers
    durations: tuple[float, ...]  # seconds per generation it accepts
    docs: str = ""  # where these figures come from


@dataclass(frozen=True)
class HostedOptions:
    """A hosted backend's options (storyboard `model_options:` or the CLI).

    max_concurrent  jobs in flight at once for this provider
    poll_interval   seconds between status polls
    max_wait        seconds to wait for one job before stopping (the job is kept: re-running resumes it)
    backoff         first retry delay in seconds (doubled each time) when the server gives no hint
    base_url        the API's address (a proxy, a regional endpoint, a local test server)
    """

    max_concurrent: int = 2
    poll_interval: float = 5.0
    max_wait: float = 3600.0
    backoff: float = 2.0
    base_url: str | None = None

    def __post_init__(self) -> None:
        if self.max_concurrent < 1:
            raise StoryreelError(f"max_concurrent must be at least 1, got {self.max_concurrent}", field="max_concurrent")
        for name in ("poll_interval", "max_wait", "backoff"):
            if getattr(self, name) < 0:
                raise StoryreelError(f"{name} must be 0 or more, got {getattr(self, name)}", field=name)

    @classmethod
    def from_mapping(cls, data: dict | None) -> "HostedOptions":
        data = {k: v for k, v in dict(data or {}).items() if v is not None}
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise StoryreelError(f"unknown hosted option {unknown[0]!r}; known: {', '.join(sorted(known))}",
                                 field=unknown[0])
        kw = {}
        for k, v in data.items():
            typ = int if k == "max_concurrent" else str if k == "base_url" else float
            try:
                kw[k] = typ(v)
            except (TypeError, ValueError):
                raise StoryreelError(f"{k} must be a {typ.__name__}, got {v!r}", field=k) from None
        return cls(**kw)


@dataclass(frozen=True)
class Poll:
    """A job's state: running, succeeded (with the video's URL) or failed (with the provider's reason)."""

    state: str
    url: str = ""
    reason: str = ""
    refused: bool = False  # failed because of the provider's content policy
    data: bytes = b""  # the video itself, when the provider returns it inline instead of a URL


_SLOTS: dict[str, threading.BoundedSemaphore] = {}
_SLOTS_LOCK = threading.Lock()


def provider_slots(provider: str, n: int) -> threading.BoundedSemaphore:
    """The semaphore bounding jobs in flight for `provider` in this process."""
    with _SLOTS_LOCK:
        if provider not in _SLOTS or getattr(_SLOTS[provider], "_initial_value", n) != n:
            _SLOTS[provider] = threading.BoundedSemaphore(n)
        return _SLOTS[provider]


class HostedModel(VideoModelBase):
    """A hosted video model: submit, record the job, poll, download, decode."""

    env = ""  # the environment variable of the provider's key
    sdk = ""  # the SDK's import name, for the install hint
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def __init__(self, spec: HostedSpec, options: HostedOptions | None = None) -> None:
        self.spec, self.name = spec, spec.name
        self.options = options or HostedOptions()
        self.capabilities = spec.capabilities
        self.jobs = JobStore(default_jobs_dir())
        self.submissions = 0  # jobs this instance submitted (what a resume must keep at 0)

    # --- what it is ----------------------------------------------------------------------------

    @cached_property
    def native(self) -> NativeFormat:
        w, h = self.spec.sizes[0]
        return NativeFormat(fps=self.spec.fps, frames=int(round(max(self.spec.durations) * self.spec.fps)),
                            height=h, width=w, size_multiple=2, frame_rule=(1, 0))

    def identity(self) -> str:
        return f"{self.spec.provider}:{self.spec.model_id}"

    @property
    def parallel_jobs(self) -> int:
        return self.options.max_concurrent

    def size_for(self, width: int, height: int) -> tuple[int, int]:
        """(height, width) of the delivered size whose aspect is nearest the output's (the edit crops the rest)."""
        aspect = np.log(width / height)
        w, h = min(self.spec.sizes, key=lambda s: abs(np.log(s[0] / s[1]) - aspect))
        return h, w

    def use_cache(self, root: Path) -> None:
        """Keep job records and finished videos in this take cache (CACHE/jobs)."""
        self.jobs = JobStore(Path(root) / "jobs")

    def key(self) -> str:
        """The API key from the provider's environment variable, or a one-line error naming it."""
        value = os.environ.get(self.env, "").strip()
        if not value:
            raise StoryreelError(f"{self.name} needs an API key: set {self.env} (nothing was submitted)", field="model")
        return value

    def check_available(self) -> None:
        """The SDK is installed and the key is set: checked before any work."""
        if importlib.util.find_spec(self.sdk) is None:
            raise StoryreelError(f"model {self.name} needs the {self.sdk} package: pip install 'storyreel[hosted]'",
                                 field="model")
        self.key()

    def seconds_for(self, req: GenerationRequest) -> float:
        """The shortest documented duration that covers the request's new frames."""
        need = req.frames - (len(req.first_frames) - 1 if req.first_frames is not None else 0)
        for d in sorted(self.spec.durations):
            if d * self.spec.fps + 1e-6 >= need:
                return d
        raise StoryreelError(f"{self.name} makes at most {max(self.spec.durations):g} s ({self.native.frames} frames) "
                             f"per generation, got {req.frames} frames; longer shots need extension")

    def billed_seconds(self, frames: int) -> float:
        """Seconds billed for a generation of `frames` frames (the cost estimate)."""
        return self.seconds_for(GenerationRequest(prompt="", frames=frames))

    def check_request(self, req: GenerationRequest) -> None:
        if (req.width, req.height) not in self.spec.sizes:
            sizes = ", ".join(f"{w}x{h}" for w, h in self.spec.sizes)
            raise StoryreelError(f"{self.name} delivers {sizes}; {req.width}x{req.height} is not one of them")
        needs = [("first_frames", "i2v"), ("last_frames", "connect"), ("video", "v2v"), ("reference_image", "reference")]
        for attr, cap in needs:
            if getattr(req, attr) is not None and cap not in self.capabilities and cap != "reference":
                raise StoryreelError(f"{self.name} cannot take {attr.replace('_', ' ')} ({cap} is not among its "
                                     f"capabilities: {', '.join(sorted(self.capabilities))})")
        self.seconds_for(req)

    # --- the provider's part -------------------------------------------------------------------

    def submit(self, req: GenerationRequest, seconds: float) -> str:
        """Start a generation; the provider's job id."""
        raise NotImplementedError

    def poll(self, job_id: str) -> Poll:
        raise NotImplementedError

    def classify(self, exc: BaseException) -> Failure | None:
        """How to treat an exception of the SDK (None: not the SDK's, let it propagate)."""
        return None

    def fetch(self, url: str) -> bytes:
        """The finished video's bytes (an SDK with its own download call overrides this)."""
        return download(url)

    def upload_png(self, png: bytes, name: str):
        """Where the provider can read a conditioning image: a data URI unless the SDK uploads files."""
        return "data:image/png;base64," + base64.b64encode(png).decode()

    def image_ref(self, frame: np.ndarray, name: str):
        """Upload one (H, W, 3) uint8 frame as PNG; what the provider's request names it by."""
        import cv2  # deferred: only conditioned requests encode images

        ok, buf = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR))
        if not ok:
            raise StoryreelError("could not encode a conditioning frame as PNG")
        return self.call(lambda: self.upload_png(buf.tobytes(), name), "uploading a conditioning frame")

    # --- the shared part -----------------------------------------------------------------------

    def call(self, fn, what: str):
        return with_retries(fn, lambda e: self.classify(e) or classify_http(e), f"{self.name}: {what}",
                            backoff=self.options.backoff, sleep=self.sleep)

    def generate(self, req: GenerationRequest, progress=None) -> Clip:
        self.check_request(req)
        self.key()
        key = request_key(self.identity(), req)
        rec = self.jobs.get(key)
        resumed = rec is not None
        with provider_slots(self.spec.provider, self.options.max_concurrent):
            if rec is None:
                seconds = self.seconds_for(req)
                job_id = self.call(lambda: self.submit(req, seconds), "submitting")
                self.submissions += 1
                rec = self.jobs.submitted(key, self.spec.provider, self.spec.model_id, job_id, seconds)
            data = self._finish(key, rec, progress)
        return self._clip(req, key, rec, data, resumed)

    def _finish(self, key: str, rec: JobRecord, progress) -> bytes:
        """Poll the recorded job to its end and return its video (downloaded once, checksummed)."""
        data = self.jobs.cached_video(key, rec)
        if data is not None:
            return data
        if rec.state == "failed":
            raise StoryreelError(f"{self.name} job {rec.job_id} failed on the provider's side: {rec.reason}; not "
                                 f"resubmitted (delete {self.jobs.record_path(key)} to pay for it again)")
        start = time.monotonic()
        while True:
            state = self.call(lambda: self.poll(rec.job_id), f"polling job {rec.job_id}")
            if state.state == "succeeded":
                break
            if state.state == "failed":
                self.jobs.failed(key, rec, state.reason)
                if state.refused:
                    raise StoryreelError(f"{self.name} refused the prompt under its content policy: {state.reason}")
                raise StoryreelError(f"{self.name} job {rec.job_id} failed on the provider's side: {state.reason}; "
                                     f"not resubmitted (delete {self.jobs.record_path(key)} to pay for it again)")
            if time.monotonic() - start > self.options.max_wait:
                raise StoryreelError(f"{self.name} job {rec.job_id} still running after {self.options.max_wait:g} s; "
                                     f"it is recorded: render again to keep waiting for it (no new charge)")
            self.sleep(self.options.poll_interval)
        data = state.data or self.call(lambda: self.fetch(state.url), f"downloading job {rec.job_id}")
        self.jobs.store_video(key, rec, data, state.url)
        if progress is not None:
            progress(1, 1)
        return data

    def _clip(self, req: GenerationRequest, key: str, rec: JobRecord, data: bytes, resumed: bool) -> Clip:
        """The delivered video as exactly the frames asked: given conditioning frames first, then the video."""
        from ...output.clip import read_frames  # deferred: av is needed only once a video arrives

        video = read_frames(self.jobs.video_path(key))  # (T, H, W, 3) uint8
        prefix = req.first_frames[:-1] if req.first_frames is not None else np.zeros((0, req.height, req.width, 3),
                                                                                        np.uint8)
        need = req.frames - len(prefix)
        if video.shape[1:3] != (req.height, req.width) or len(video) < need:
            raise StoryreelError(f"{self.name} job {rec.job_id} delivered {len(video)} frames of {video.shape[2]}x"
                                 f"{video.shape[1]}; the request needs {need} of {req.width}x{req.height}")
        frames = np.concatenate([prefix, video[:need]])
        info = {"model": self.name, "provider": self.spec.provider, "provider_model": self.spec.model_id,
                "job_id": rec.job_id, "billed_seconds": rec.seconds, "native_size": [req.width, req.height],
                "requested_frames": req.frames, "delivered_frames": int(len(video)), "frames": req.frames,
                "fps": self.spec.fps, "resumed_job": resumed, "video_sha256": rec.sha256,
                "reference_image": req.reference_image is not None and "reference" in self.capabilities,
                **req.conditioning_summary()}
        return Clip(frames, self.spec.fps, req, info)


def download(url: str) -> bytes:
    """The finished video's bytes (redirects followed)."""
    import httpx  # deferred: the SDKs bring it; only finished jobs need it

    with httpx.Client(follow_redirects=True, timeout=120.0) as client:
        r = client.get(url)
        if r.status_code >= 400:
            raise _HTTPStatus(r.status_code, f"HTTP {r.status_code} from {url.split('?')[0]}", r.headers)
        return r.content


class _HTTPStatus(Exception):
    def __init__(self, status: int, message: str, headers) -> None:
        super().__init__(message)
        self.status, self.headers = status, headers


def classify_http(exc: BaseException) -> Failure | None:
    """Failures of `download` itself (any provider)."""
    if isinstance(exc, _HTTPStatus):
        return http_failure(exc.status, str(exc), exc.headers)
    import httpx  # deferred: see download

    if isinstance(exc, httpx.TransportError):
        return Failure("retry", f"{type(exc).__name__}: {exc}")
    return None
