"""A running studio: the project, its takes, the event bus, the worker, and the watch on the file."""

from __future__ import annotations

import threading
from pathlib import Path

from .jobs import EventBus, Worker
from .project import Project
from .takes_state import TakesState

WATCH_SECONDS = 0.3  # how often the file is checked for edits made outside the studio


class Studio:
    """Everything one `storyreel studio` serves; `close()` stops its threads."""

    def __init__(self, storyboard: str | Path, cache_dir: Path | None = None, *, watch: bool = True):
        self.project = Project(storyboard, cache_dir)
        self.takes = TakesState(self.project.work / "takes.json")
        self.bus = EventBus()
        self.worker = Worker(self.bus)
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._watch_file, name="storyreel-studio-watch", daemon=True)
        if watch:
            self._watch.start()

    def _watch_file(self) -> None:
        """Tell the page when the storyboard was changed by someone else (a text editor, another studio)."""
        while not self._stop.wait(WATCH_SECONDS):
            if self.project.refresh():
                self.bus.publish({"type": "storyboard", "version": self.project.snapshot.version})

    def close(self) -> None:
        self._stop.set()
        self.worker.stop()
