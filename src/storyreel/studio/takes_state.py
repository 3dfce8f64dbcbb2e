"""Which takes the studio made for each shot and which one is kept: STORYBOARD.studio/takes.json.

The takes themselves are in storyreel's content-addressed take cache (the one
`storyreel render` reads); this file only remembers their keys, seeds and
scores, and the user's choice. A shot is remembered by what it shows (its full
prompt and base seed), so re-planning that only moves shots keeps their takes.
A shot marked `pending` was being generated when the studio stopped: the next
start shows it, and generating it again takes every finished take from the cache.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from ..fsio import atomic_write
from ..plan import Shot


def family_key(shot: Shot) -> str:
    """The takes a shot shares with any shot showing the same thing (prompt and base seed)."""
    return hashlib.sha256(f"{shot.seed}\n{shot.prompt}".encode()).hexdigest()[:16]


class TakesState:
    """takes.json: {family: {"takes": [{take, seed, key, score}], "kept": k, "pending": bool}}."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.data: dict = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.data = {}

    def family(self, shot: Shot) -> dict:
        return self.data.get(family_key(shot), {})

    def kept(self, shot: Shot) -> int | None:
        return self.family(shot).get("kept")

    def update(self, shot: Shot, **changes) -> dict:
        """Change a shot's record and write the file atomically (before the next shot starts)."""
        with self._lock:
            fam = dict(self.family(shot))
            fam.update(changes)
            self.data[family_key(shot)] = {k: v for k, v in fam.items() if v is not None}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, json.dumps(self.data, indent=1, sort_keys=True) + "\n")
            return fam
