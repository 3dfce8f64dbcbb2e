"""The analysis cache: a MusicMap as JSON, keyed by the audio's sha256 and the analysis parameters.

The cache is an optimisation: an unreadable entry is recomputed and an
unwritable cache folder does not fail the analysis.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..fsio import atomic_path
from .musicmap import MusicMap


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "storyreel" / "analysis"


def cache_file(cache_dir: str | os.PathLike | None, digest: str, params: dict) -> Path:
    tag = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    return Path(cache_dir or default_cache_dir()) / f"{digest[:32]}-{tag}.json"


def read_cache(path: Path, params: dict) -> MusicMap | None:
    """The cached MusicMap, or None when absent, unreadable or made with other parameters."""
    try:
        data = json.loads(path.read_text())
        if data.get("params") != params:
            return None
        return MusicMap.from_dict(data["music_map"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged entry is recomputed and overwritten


def write_cache(path: Path, params: dict, music_map: MusicMap) -> None:
    """Store `music_map` under `path`, with the parameters that made it."""
    try:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps({"params": params, "music_map": music_map.to_dict()}))
    except OSError:
        pass  # the cache is an optimisation: an unwritable cache dir must not fail the analysis
