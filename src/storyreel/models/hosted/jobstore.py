"""Submitted hosted jobs, on disk in the take cache, so a request is never paid for twice.

Every submission is recorded (provider, model, job id) BEFORE polling starts,
durably. A render killed while it waits, then started again, finds the record
and polls the same job instead of submitting a new one. A finished job's
video is downloaded once, checked against its sha256 and kept beside the
record; a job that failed on the provider's side keeps its reason, and is
reported, never resubmitted silently (deleting its record is the way to pay
for it again).

Layout: CACHE/jobs/<key>.json and CACHE/jobs/<key>.mp4, where the key hashes
everything that determines the generation (the backend's identity and the
request, conditioning frames by hash).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ...errors import StoryreelError
from ...fsio import atomic_write
from ..base import GenerationRequest


def default_jobs_dir() -> Path:
    """CACHE/jobs, CACHE being $STORYREEL_CACHE or ~/.cache/storyreel/takes (the take cache's default)."""
    return Path(os.environ.get("STORYREEL_CACHE", Path.home() / ".cache" / "storyreel" / "takes")) / "jobs"


def _hash(a: np.ndarray | None) -> str | None:
    if a is None:
        return None
    h = hashlib.sha256(str((a.shape, str(a.dtype))).encode())
    h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def request_key(identity: str, req: GenerationRequest) -> str:
    """The hash of everything one hosted generation depends on."""
    fields = {"model": identity, "prompt": req.prompt, "negative": req.negative_prompt, "seed": int(req.seed),
              "size": [req.width, req.height], "frames": req.frames, "first": _hash(req.first_frames),
              "last": _hash(req.last_frames), "video": _hash(req.video), "reference": _hash(req.reference_image)}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]


@dataclass
class JobRecord:
    """One submitted job: who has it, its id, and how it ended (state: submitted | succeeded | failed)."""

    provider: str
    model: str
    job_id: str
    submitted: float
    state: str = "submitted"
    seconds: float = 0.0  # seconds of video billed
    reason: str = ""  # the provider's reason, when it failed
    url: str = ""  # where the finished video was
    sha256: str = ""  # of the downloaded video


@dataclass
class JobStore:
    """Job records and finished videos under `root` (CACHE/jobs)."""

    root: Path

    def __post_init__(self) -> None:
        self.root = Path(self.root)

    def record_path(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def video_path(self, key: str) -> Path:
        return self.root / f"{key}.mp4"

    def get(self, key: str) -> JobRecord | None:
        path = self.record_path(key)
        if not path.is_file():
            return None
        try:
            return JobRecord(**json.loads(path.read_text()))
        except (ValueError, TypeError) as e:
            raise StoryreelError(f"unreadable job record ({e}); it names a job that may already be paid for: "
                                 f"look it up with the provider before deleting it", file=str(path)) from None

    def put(self, key: str, rec: JobRecord) -> None:
        """Write the record durably (fsync before rename): it must survive the process being killed next."""
        atomic_write(self.record_path(key), json.dumps(asdict(rec), indent=1), durable=True)

    def submitted(self, key: str, provider: str, model: str, job_id: str, seconds: float) -> JobRecord:
        rec = JobRecord(provider, model, job_id, time.time(), seconds=seconds)
        self.put(key, rec)
        return rec

    def store_video(self, key: str, rec: JobRecord, data: bytes, url: str) -> Path:
        """Keep a finished job's video with its checksum; the record then says succeeded."""
        rec.state, rec.url, rec.sha256 = "succeeded", url, hashlib.sha256(data).hexdigest()
        path = atomic_write(self.video_path(key), data, durable=True)
        self.put(key, rec)
        return path

    def cached_video(self, key: str, rec: JobRecord) -> bytes | None:
        """The finished video if it is here and matches its checksum, else None (it is downloaded again)."""
        path = self.video_path(key)
        if rec.state != "succeeded" or not rec.sha256 or not path.is_file():
            return None
        data = path.read_bytes()
        return data if hashlib.sha256(data).hexdigest() == rec.sha256 else None

    def failed(self, key: str, rec: JobRecord, reason: str) -> None:
        rec.state, rec.reason = "failed", reason
        self.put(key, rec)

    def records(self) -> list[tuple[str, JobRecord]]:
        return [(p.stem, rec) for p in sorted(self.root.glob("*.json")) if (rec := self.get(p.stem)) is not None]
