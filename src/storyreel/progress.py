"""Progress as plain data: long stages report events to a callback; whoever called them decides how to show them.

The CLI turns events into rich progress bars (cli.progress); a server can send
them to a browser; tests can record them. Nothing below the CLI prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProgressEvent:
    """How far one task has come: `done` of `total` (None: not known yet), and a line for a person."""

    task: str  # "analysis", "generation", "encoding", "animatic", "evaluation", "clip"
    label: str  # e.g. "generating 55 shots (builtin)"
    done: float
    total: float | None = None


Progress = Callable[[ProgressEvent], None]


def report(progress: Progress | None, task: str, label: str, done: float, total: float | None = None) -> None:
    """Send one event to `progress`, if there is a listener."""
    if progress is not None:
        progress(ProgressEvent(task, label, done, total))
