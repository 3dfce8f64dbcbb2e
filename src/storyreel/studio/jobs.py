"""One background worker per studio: long work (generation, the animatic, the render) runs there, in order.

The worker calls the pipeline's own functions; what they report through
`storyreel.progress` becomes events, with an ETA, that the page reads as
server-sent events (`EventBus.wait`). The bus also carries "the storyboard
changed" when the file is edited outside the studio.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import StoryreelError
from ..progress import ProgressEvent

KEEP_EVENTS = 2000  # events kept for a page that reconnects


class EventBus:
    """Numbered events; `wait(after)` blocks until there is one newer than `after`."""

    def __init__(self) -> None:
        self._events: list[dict] = []
        self._seq = itertools.count(1)
        self._cond = threading.Condition()

    def publish(self, event: dict) -> dict:
        with self._cond:
            event = {**event, "seq": next(self._seq), "time": time.time()}
            self._events.append(event)
            del self._events[:-KEEP_EVENTS]
            self._cond.notify_all()
            return event

    def since(self, after: int) -> list[dict]:
        with self._cond:
            return [e for e in self._events if e["seq"] > after]

    def wait(self, after: int, timeout: float) -> list[dict]:
        """Events newer than `after`, waiting up to `timeout` seconds for the first."""
        with self._cond:
            self._cond.wait_for(lambda: bool(self._events) and self._events[-1]["seq"] > after, timeout)
        return self.since(after)

    @property
    def last(self) -> int:
        with self._cond:
            return self._events[-1]["seq"] if self._events else 0


@dataclass
class Job:
    """A piece of queued work and where it is."""

    id: int
    kind: str  # generate | reroll | animatic | render
    label: str
    run: Callable[["Job"], object]
    state: str = "queued"  # queued | running | done | failed
    error: str | None = None
    result: object = None
    started: float = 0.0
    stages: dict = field(default_factory=dict)  # task -> {done, total, label, eta}


class Worker:
    """The studio's one worker thread and its queue."""

    def __init__(self, bus: EventBus):
        self.bus = bus
        self.jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="storyreel-studio-worker", daemon=True)
        self._thread.start()

    def submit(self, kind: str, label: str, run: Callable[[Job], object]) -> Job:
        job = Job(next(self._ids), kind, label, run)
        self.jobs[job.id] = job
        self._queue.put(job)
        self._publish(job)
        return job

    def progress(self, job: Job) -> Callable[[ProgressEvent], None]:
        """A storyreel.progress callback that turns the pipeline's events into the job's stages, with an ETA."""
        begun: dict[str, tuple[float, float]] = {}

        def on(ev: ProgressEvent) -> None:
            now = time.time()
            t0, d0 = begun.setdefault(ev.task, (now, ev.done))
            eta = None
            if ev.total and ev.done > d0 and now > t0:
                eta = round((now - t0) / (ev.done - d0) * (ev.total - ev.done), 1)
            job.stages[ev.task] = {"done": ev.done, "total": ev.total, "label": ev.label, "eta": eta}
            self._publish(job, stage=ev.task)
        return on

    def idle(self, timeout: float = 60.0) -> bool:
        """Wait until every queued job has finished (tests, shutdown); whether it did."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if all(j.state in ("done", "failed") for j in self.jobs.values()):
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        self._queue.put(None)

    def _publish(self, job: Job, **extra) -> None:
        self.bus.publish({"type": "job", "id": job.id, "kind": job.kind, "label": job.label, "state": job.state,
                          "error": job.error, "stages": dict(job.stages), **extra})

    def _loop(self) -> None:
        while (job := self._queue.get()) is not None:
            job.state, job.started = "running", time.time()
            self._publish(job)
            try:
                job.result = job.run(job)
                job.state = "done"
            except StoryreelError as e:
                job.state, job.error = "failed", e.format()
            except Exception as e:  # the worker outlives one job's bug; the page shows it as one line
                traceback.print_exc()
                job.state, job.error = "failed", f"{type(e).__name__}: {e}"
            self._publish(job)
