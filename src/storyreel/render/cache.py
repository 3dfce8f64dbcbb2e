"""Content-addressed take store: a finished generation is never redone and never lost; and its ls / du / gc.

A take's key hashes everything that determines it (backend and weights
identity, prompt, negative prompt, seed, size, frame count, conditioning
frames by hash, sampler settings, storyreel's generation-format version).
Entries are written atomically (temporary file, fsync, rename) with a
checksum of the frames, so a half-written or corrupted take is detected on
read and regenerated with a warning instead of being used.

`list_takes`, `usage` and `collect` are what `storyreel cache ls|du|gc` show
and do: the takes by last use, their size, and deleting all but the most
recently used (with the temporary files of writers that were killed).
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

from ..errors import StoryreelError
from ..fsio import PARTIAL_GLOB, atomic_path
from ..models.base import Clip, GenerationRequest

LEFTOVER_AGE = 60.0  # seconds: a temporary take file older than this belongs to a writer that died

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
    if req.camera is not None:  # only backends that make the move set it: other keys stay as they were
        fields["camera"] = req.camera
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]


@dataclass
class TakeCache:
    """Takes on disk under root/ab/abcdef....npz with a JSON sidecar of metadata."""

    root: Path

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.hits = 0
        self.misses = 0

    def path(self, key: str) -> Path:
        """Where the take `key` is stored (whether or not it is there)."""
        return self.root / key[:2] / f"{key}.npz"

    def get(self, key: str) -> Clip | None:
        """The stored take, or None if absent or corrupt (a corrupt one is removed with a warning)."""
        path = self.path(key)
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
        """Store a take (durably: fsync before the rename) with its metadata."""
        path = self.path(key)
        buf = io.BytesIO()
        info = {**clip.info, **(meta or {}), "stored": time.time()}
        np.savez(buf, frames=clip.frames, fps=np.float64(clip.fps), checksum=array_hash(clip.frames), info=json.dumps(info))
        with atomic_path(path, durable=True) as tmp:
            tmp.write_bytes(buf.getvalue())
        return path

    def entries(self) -> list[tuple[str, int, float]]:
        """(key, bytes, last used) for every take, newest first."""
        out = []
        for p in self.root.glob("*/*.npz"):
            st = p.stat()
            out.append((p.stem, st.st_size, st.st_mtime))
        return sorted(out, key=lambda e: -e[2])


# ----------------------------------------------------------------------------- ls, du, gc


def open_cache(cache_dir: Path | None) -> TakeCache:
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if root.exists() and not root.is_dir():
        raise StoryreelError("the cache path is not a folder", file=str(root))
    return TakeCache(root)


def describe(cache: TakeCache, key: str) -> dict:
    """What a take's metadata says (shot, take, prompt, seed, model, frames); {} if unreadable."""
    try:
        with np.load(cache.path(key), allow_pickle=False) as data:
            info = json.loads(str(data["info"]))
            shape = data["frames"].shape if "frames" in data.files else None
    except Exception:  # noqa: BLE001 - a corrupt entry is listed, not fatal; `get` regenerates it
        return {"corrupt": True}
    keep = ("shot", "take", "prompt", "seed", "model", "stored")
    out = {k: info[k] for k in keep if k in info}
    if shape is not None:
        out["frames"], out["size"] = int(shape[0]), f"{shape[2]}x{shape[1]}"
    return out


def list_takes(cache: TakeCache, limit: int | None = None) -> list[dict]:
    """Every take, most recently used first: key, bytes, last used (epoch seconds) and its metadata."""
    rows = []
    for key, size, used in cache.entries()[:limit]:
        rows.append({"key": key, "bytes": size, "last_used": used, **describe(cache, key)})
    return rows


def leftovers(cache: TakeCache, min_age: float = LEFTOVER_AGE) -> list[Path]:
    """Temporary files of writers that were killed mid-write (never read back; safe to delete)."""
    now = time.time()
    out = []
    for p in cache.root.glob(f"*/{PARTIAL_GLOB}"):
        try:
            if now - p.stat().st_mtime >= min_age:
                out.append(p)
        except FileNotFoundError:  # renamed into place meanwhile
            pass
    return out


def usage(cache: TakeCache) -> dict:
    """Takes, bytes, the oldest and newest last use, and leftover temporary files."""
    entries = cache.entries()
    tmp = leftovers(cache, 0.0)
    return {
        "root": str(cache.root), "takes": len(entries), "bytes": sum(e[1] for e in entries),
        "newest_use": entries[0][2] if entries else None, "oldest_use": entries[-1][2] if entries else None,
        "leftover_files": len(tmp), "leftover_bytes": sum(_size(p) for p in tmp),
    }


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except FileNotFoundError:
        return 0


def collect(cache: TakeCache, keep_last: int | None, *, dry_run: bool = False) -> dict:
    """Delete all but the `keep_last` most recently used takes (None: keep all) and dead writers' leftovers."""
    if keep_last is not None and keep_last < 0:
        raise StoryreelError(f"--keep-last must be 0 or more, got {keep_last}", field="--keep-last")
    doomed = [(cache.path(k), s) for k, s, _ in cache.entries()[keep_last:]] if keep_last is not None else []
    junk = [(p, _size(p)) for p in leftovers(cache)]
    for p, _ in doomed + junk if not dry_run else []:
        p.unlink(missing_ok=True)
    kept = len(cache.entries()) if not dry_run else len(cache.entries()) - len(doomed)
    return {"removed": len(doomed), "freed": sum(s for _, s in doomed + junk), "leftovers": len(junk), "kept": kept,
            "dry_run": dry_run}
