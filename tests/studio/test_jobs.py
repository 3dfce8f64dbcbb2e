"""The studio's worker: one job at a time, in order; progress with an ETA; a failing job is one line."""

from __future__ import annotations

import threading

from storyreel.errors import StoryreelError
from storyreel.progress import ProgressEvent
from storyreel.studio.jobs import EventBus, Worker


def test_jobs_run_one_at_a_time_in_order_with_an_eta():
    bus = EventBus()
    worker = Worker(bus)
    order, running = [], threading.Lock()

    def step(name):
        def run(job):
            assert running.acquire(blocking=False), "two jobs ran at once"
            progress = worker.progress(job)
            for i in range(4):
                progress(ProgressEvent("generation", name, i, 4))
            order.append(name)
            running.release()
        return run

    for name in "abc":
        worker.submit("generate", name, step(name))
    assert worker.idle(10)
    worker.stop()
    assert order == ["a", "b", "c"]
    stages = [e for e in bus.since(0) if e.get("stage") == "generation"]
    assert stages[-1]["stages"]["generation"]["eta"] is not None
    assert [e["state"] for e in bus.since(0) if e["label"] == "a"][-1] == "done"


def test_a_failing_job_is_one_line_and_the_worker_goes_on():
    bus = EventBus()
    worker = Worker(bus)

    def bad(job):
        raise StoryreelError("no such shot", field="shots")
    failed = worker.submit("generate", "bad", bad)
    fine = worker.submit("generate", "fine", lambda job: 1)
    assert worker.idle(10)
    worker.stop()
    assert failed.state == "failed" and failed.error == "shots: no such shot"
    assert fine.state == "done"


def test_waiting_returns_new_events_only():
    bus = EventBus()
    first = bus.publish({"type": "x"})
    assert bus.wait(first["seq"], 0.05) == []
    second = bus.publish({"type": "y"})
    assert [e["seq"] for e in bus.wait(first["seq"], 1)] == [second["seq"]]
