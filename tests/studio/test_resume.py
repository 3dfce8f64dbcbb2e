"""A studio killed mid-generation loses no finished take; the next start shows where it stopped and resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from fakes import STUDIO_TOKEN, LoggingModel, use_backend
from storyreel.studio.server import free_port
from storyreel.studio.session import Studio
from storyreel.studio import actions

TESTS = Path(__file__).resolve().parents[1]


def _generated(log: Path) -> list[str]:
    return [json.loads(line)["prompt"] for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.parametrize("shots", [[0, 1, 2], "all"], ids=["shot by shot", "all, on the executor"])
def test_killed_mid_generation_then_resumed(board, tmp_path, monkeypatch, shots):
    log, port = tmp_path / "gen.log", free_port()
    code = (f"import fakes; fakes.serve_studio_with_slow_backend({str(board)!r}, {port}, {STUDIO_TOKEN!r}, "
            f"{str(log)!r}, 1.5)")
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    child = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        url, headers = f"http://127.0.0.1:{port}", {"X-Storyreel-Token": STUDIO_TOKEN}
        deadline = time.time() + 300  # a fresh process: imports and the first analysis (slow on a busy machine)
        while True:
            try:
                httpx.get(f"{url}/api/plan", headers=headers, timeout=2)
                break
            except httpx.TransportError:
                assert time.time() < deadline and child.poll() is None, "the studio did not start"
                time.sleep(0.2)
        assert httpx.post(f"{url}/api/generate", json={"shots": shots}, headers=headers).status_code == 200
        state = board.parent / "board.studio" / "takes.json"
        while not (state.exists() and '"kept"' in state.read_text()):  # the first shot is done and recorded
            assert time.time() < deadline + 120
            time.sleep(0.05)
        time.sleep(0.5)  # the second is being generated
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    done = _generated(log)
    kept = json.loads((board.parent / "board.studio" / "takes.json").read_text())
    finished = sum("kept" in fam for fam in kept.values())
    assert 1 <= finished < 3

    model = LoggingModel(log)
    use_backend(monkeypatch, model, name="nocond")
    studio = Studio(board, watch=False)
    try:
        view = actions.plan_view(studio.project.snapshot, studio.takes)["shots"]
        assert view[0]["kept"] == 0 and not view[0]["pending"]  # finished: on disk
        assert view[finished]["pending"] and view[finished]["kept"] is None  # where it stopped
        job = studio.worker.submit("generate", "resume", lambda j: actions.generate(studio, j, [0, 1, 2]))
        assert studio.worker.idle(60) and job.state == "done", job.error
        again = _generated(log)[len(done):]
        finished_prompts = {s["prompt"] for s in view[:finished]}
        assert again and not finished_prompts & set(again)  # the finished shots came from the cache
        assert all(s["kept"] == 0 for s in actions.plan_view(studio.project.snapshot, studio.takes)["shots"])
    finally:
        studio.close()
