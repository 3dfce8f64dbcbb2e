"""One storyboard open in the studio: its file, its song's analysis, the current plan, where outputs go.

Planning is the pipeline's own stages 1 to 3 (`job.storyboard_job`,
`job.analyze_song`, `job.plan_job`), run on the text an edit would write
before it is written: an edit that does not parse or plan is refused with the
CLI's one-line error, and the file is left as it was.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import StoryreelError
from ..job import Job, analyze_song, plan_job, storyboard_job
from ..music import MusicMap
from ..plan import ShotPlan
from ..render.cache import TakeCache, default_cache_dir
from ..storyboard.load import parse_storyboard
from .sandbox import Sandbox
from .yaml_doc import StoryboardDoc, apply_edits


@dataclass
class Snapshot:
    """The storyboard as the file is now, and its plan (or the one-line error that stops planning)."""

    version: str
    text: str
    data: Any = None  # the YAML as plain data (for the editor's fields)
    job: Job | None = None
    music: MusicMap | None = None
    plan: ShotPlan | None = None
    error: StoryreelError | None = None


class Project:
    """The studio's storyboard; every read of the file's state goes through `snapshot`."""

    def __init__(self, path: str | Path, cache_dir: Path | None = None):
        self.path = Path(path).resolve()
        self.doc = StoryboardDoc(self.path)
        self.work = self.path.parent / f"{self.path.stem}.studio"  # animatic, renders, takes state
        self.cache = TakeCache(Path(cache_dir) if cache_dir else default_cache_dir())
        self.sandbox = Sandbox({"project": self.path.parent, "cache": self.cache.root})
        self._music: dict[tuple, MusicMap] = {}
        self._lock = threading.RLock()
        self.snapshot = self.load()

    # reading ------------------------------------------------------------------

    def load(self) -> Snapshot:
        """Read and plan the file as it is now (an error is kept in the snapshot, not raised)."""
        with self._lock:
            text, version = self.doc.read()
            try:
                snap = self._planned(text, version)
            except StoryreelError as e:
                snap = Snapshot(version, text, _plain(text), error=e)
            self.snapshot = snap
            return snap

    def refresh(self) -> bool:
        """Reload if the file changed on disk (a text editor); whether it did. Under the edit lock, so the
        studio's own write is never taken for someone else's."""
        with self._lock:
            try:
                changed = self.doc.version != self.snapshot.version
            except OSError:
                return False
            if changed:
                self.load()
            return changed

    def music_for(self, job: Job) -> MusicMap:
        """The song's analysis with the storyboard's corrections, kept in memory by file identity and
        corrections (the analysis cache itself hashes the audio)."""
        st = job.song.stat()
        ov = job.music_overrides
        key = (str(job.song), st.st_mtime_ns, st.st_size, job.fps, job.beats_per_bar, ov)
        if key not in self._music:
            if len(self._music) > 16:
                self._music.clear()
            self._music[key] = analyze_song(job.song, job.fps, beats_per_bar=job.beats_per_bar, overrides=ov)
        return self._music[key]

    def _planned(self, text: str, version: str) -> Snapshot:
        """Stages 1-3 over `text` as if it were the file: raises the CLI's StoryreelError."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecations are the CLI's to print
            sb = parse_storyboard(text, path=self.path, check_files=True)
        job = storyboard_job(self.path, sb)
        music = self.music_for(job)
        return Snapshot(version, text, _plain(text), job, music, plan_job(job, music))

    # writing ------------------------------------------------------------------

    def edit(self, base_version: str, edits: list[tuple[list, Any]]) -> Snapshot:
        """Apply edits against `base_version`, check they plan, write atomically: the new snapshot.

        Raises StoryreelError (the CLI's line; nothing written) or yaml_doc.Stale (the file moved on).
        """
        with self._lock:
            text, _ = self.doc.read()
            new_text = apply_edits(text, edits)
            snap = self._planned(new_text, base_version)  # raises before anything is written
            snap.version = self.doc.write(new_text, base_version)
            self.snapshot = snap
            return snap


def _plain(text: str) -> Any:
    """The YAML as plain data, or None if it does not parse (the error says why)."""
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml when there: fast
    except yaml.YAMLError:
        return None
