"""Rich progress bars with ETA for the library's progress events (storyreel.progress), on stderr."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..progress import ProgressEvent

TRANSIENT = {"analysis", "animatic", "evaluation"}  # bars that vanish when done: the result line says it all


def progress_bar(transient: bool = False) -> Progress:
    """A progress display on stderr: description, bar, n/total, elapsed and ETA."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=transient,
    )


class Bars:
    """A callable for `progress=`: one bar per task, each closed when the next task starts (or on exit)."""

    def __init__(self) -> None:
        self._task: str | None = None
        self._bar: Progress | None = None
        self._id = None

    def __call__(self, ev: ProgressEvent) -> None:
        if ev.task != self._task:
            self.close()
            self._task, self._bar = ev.task, progress_bar(transient=ev.task in TRANSIENT)
            self._bar.start()
            self._id = self._bar.add_task(ev.label, total=ev.total)
        self._bar.update(self._id, completed=ev.done, total=ev.total, description=ev.label)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
        self._task = self._bar = None

    def __enter__(self) -> "Bars":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
