"""`render` and `plan` with a hosted model: the estimate before any request, the confirmation, the key check,
and a render through the real runwayml SDK against a local server that is charged once per generation."""

import json
import threading

import pytest
from typer.testing import CliRunner

from fakes import make_song
from hosted_server import RunwayAPI, mp4_bytes
from storyreel.cli import app
from storyreel.models import registry

pytest.importorskip("runwayml")

runner = CliRunner()

BOARD = """\
title: Hosted reel
song: song.wav
tempo: 120                      # the test song clicks every half second: pinned, so shot lengths do not move
model: runway-gen4.5
model_options: {{base_url: "{url}", poll_interval: 0, backoff: 0}}
output: {{size: 320x180, fps: 24}}
shots:
  - prompt: "a lighthouse at dusk"
    length: 1 bar
  - prompt: "waves on the rocks"
"""


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """video(seconds): an MP4 as long as the task asked (made once per duration)."""
    folder, made, lock = tmp_path_factory.mktemp("delivered"), {}, threading.Lock()

    def make(seconds: int) -> bytes:
        with lock:  # the local server answers concurrent downloads (max_concurrent) on several threads
            if seconds not in made:
                (folder / str(seconds)).mkdir()
                made[seconds] = mp4_bytes(folder / str(seconds), 1280, 720, 24 * seconds, 24)
            return made[seconds]
    return make


@pytest.fixture()
def project(tmp_path, monkeypatch, video):
    monkeypatch.setenv("STORYREEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("RUNWAYML_API_SECRET", "test-key")
    registry.cache_clear()
    make_song(tmp_path / "song.wav", 6.0)
    with RunwayAPI(video) as api:
        (tmp_path / "board.yaml").write_text(BOARD.format(url=api.url))
        yield tmp_path, api
    registry.cache_clear()


def _invoke(*args, input=None):
    result = runner.invoke(app, [str(a) for a in args], input=input)
    return result.exit_code, result.output


def test_plan_shows_generations_seconds_and_cost(project):
    folder, api = project
    code, output = _invoke("plan", folder / "board.yaml")
    assert code == 0, output
    assert "estimate: 2 generations" in output and "estimated $" in output and "runway-gen4.5" in output
    assert api.calls == []


def test_a_missing_key_is_one_line_naming_it_before_any_request(project, monkeypatch):
    folder, api = project
    monkeypatch.delenv("RUNWAYML_API_SECRET")
    code, output = _invoke("render", folder / "board.yaml", "-o", folder / "out.mp4")
    assert code == 2 and "RUNWAYML_API_SECRET" in output and api.calls == []


def test_above_the_threshold_it_asks_and_a_no_submits_nothing(project):
    folder, api = project
    code, output = _invoke("render", folder / "board.yaml", "-o", folder / "out.mp4", "--confirm-above", "0.1",
                           input="n\n")
    assert code == 2 and "estimate: 2 generations" in output and "nothing was generated" in output
    assert api.calls == [] and not (folder / "out.mp4").exists()


@pytest.mark.slow
def test_yes_renders_through_the_api_and_a_second_render_pays_nothing(project):
    folder, api = project
    out = folder / "out.mp4"
    code, output = _invoke("render", folder / "board.yaml", "-o", out, "--confirm-above", "0", "--yes")
    assert code == 0, output
    assert api.submissions() == 2 and len(list((folder / "cache" / "jobs").glob("*.json"))) == 2
    plan = json.loads((folder / "out.plan.json").read_text())
    assert {s["generated"]["provider"] for s in plan["shots"]} == {"runway"}
    assert all(s["generated"]["job_id"].startswith("task-") for s in plan["shots"])
    code, output = _invoke("render", folder / "board.yaml", "-o", out, "--yes")
    assert code == 0, output
    assert api.submissions() == 2  # every take from the cache
