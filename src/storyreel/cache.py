"""Content-addressed take store: a finished generation is never redone and never lost.

A take's key hashes everything that determines it (backend and weights
identity, prompt, negative prompt, seed, size, frame count, conditioning
frames by hash, sampler settings, storyreel's generation-format version).
Entries are written atomically (temporary file, fsync, rename) with a
checksum of the frames, so a half-written or corrupted take is detected on
read and regenerated with a warning instead of being used.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .models.base import Clip, GenerationRequest

FORMAT_VERSION = 1


def default_cache_dir() -> Path:
    return Path(os.environ.get("STORYREEL_CACHE", Path.home() / ".cache" / "storyreel" / "takes"))


def array_hash(a: np.ndarray | None) -> str | None:
    if a is None:
        return None
    h = hashlib.sha256()
    h.update(str((a.shape, str(a.dtype))).encode())
    h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def take_key(model_identity: str, req: GenerationRequest, extra: dict | None = None) -> str:
    """The hash of everything that determines a generation."""
    fields = {
        "format": FORMAT_VERSION,
        "model": model_identity,
        "prompt": req.prompt,
        "negative": req.negative_prompt,
        "seed": int(req.seed),
        "size": [req.width, req.height],
        "frames": req.frames,
        "steps": req.steps,
        "guidance": req.guidance,
        "first": array_hash(req.first_frames),
        "last": array_hash(req.last_frames),
        "video": array_hash(req.video),
        "strength": req.strength if req.video is not None else None,
        "reference": array_hash(req.reference_image),
        "extra": extra or {},
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]


@dataclass
class TakeCache:
    """Takes on disk under root/ab/abcdef....npz with a JSON sidecar of metadata."""

    root: Path

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npz"

    def get(self, key: str) -> Clip | None:
        """The stored take, or None if absent or corrupt (a corrupt one is removed with a warning)."""
        path = self._path(key)
        if not path.exists():
            self.misses += 1
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                frames, fps = data["frames"], float(data["fps"])
                checksum, info = str(data["checksum"]), json.loads(str(data["info"]))
            if array_hash(frames) != checksum:
                raise ValueError("checksum mismatch")
        except Exception as e:  # noqa: BLE001 - any unreadable entry is treated the same: regenerate
            warnings.warn(f"cache entry {path.name} is corrupt ({e}); regenerating", stacklevel=2)
            path.unlink(missing_ok=True)
            self.misses += 1
            return None
        os.utime(path)  # last use, for gc --keep-last
        self.hits += 1
        return Clip(frames, fps, None, info)

    def put(self, key: str, clip: Clip, meta: dict | None = None) -> Path:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        info = {**clip.info, **(meta or {}), "stored": time.time()}
        np.savez(buf, frames=clip.frames, fps=np.float64(clip.fps), checksum=array_hash(clip.frames), info=json.dumps(info))
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            f.write(buf.getvalue())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return path

    def entries(self) -> list[tuple[str, int, float]]:
        """(key, bytes, last used) for every take, newest first."""
        out = []
        for p in self.root.glob("*/*.npz"):
            st = p.stat()
            out.append((p.stem, st.st_size, st.st_mtime))
        return sorted(out, key=lambda e: -e[2])
