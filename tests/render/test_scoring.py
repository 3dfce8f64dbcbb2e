"""Take scoring: a bad take scores lower, the best of several is kept, and --takes/--pick/--only from the CLI."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from fakes import FlickerModel, flickering, make_plan, make_take, use_backend, write_project
from storyreel.cli import app
from storyreel.render.cache import TakeCache
from storyreel.render.scoring import score_take
from storyreel.render.takes import ShotSettings, run_in_order

SHOT = make_plan([24]).shots[0]


def noisy(take: np.ndarray, sigma: float = 25.0, seed: int = 0) -> np.ndarray:
    """The take with fresh per-pixel noise on every frame (shimmer)."""
    noise = np.random.default_rng(seed).normal(0, sigma, take.shape)
    return np.clip(take + noise, 0, 255).astype(np.uint8)


def score(frames, previous_last=None):
    return score_take(frames, previous_last, SHOT, judge_prompt=False)


def test_a_flickering_take_scores_lower_than_a_clean_one():
    clean = make_take(16, seed=3)
    s_clean, p_clean = score(clean)
    s_bad, p_bad = score(flickering(clean))
    assert s_bad < s_clean and p_bad["stability"] < p_clean["stability"]
    assert 0.0 <= s_bad < s_clean <= 1.0


def test_a_noisy_take_scores_lower_than_a_clean_one():
    clean = make_take(16, seed=4)
    assert score(noisy(clean))[0] < score(clean)[0]


def test_a_take_that_does_not_start_where_the_previous_shot_ended_scores_lower():
    previous = make_take(16, seed=5)
    matching = make_take(16, seed=5)[::-1].copy()  # starts on the previous shot's last frame
    other = np.ascontiguousarray(255 - matching)  # same motion and stability, colours inverted
    s_match, p_match = score(matching, previous[-1])
    s_other, p_other = score(other, previous[-1])
    assert p_match["continuity"] > 0.9 > p_other["continuity"]
    assert p_match["stability"] == pytest.approx(p_other["stability"], rel=0.05)
    assert s_other < s_match


def test_best_of_three_keeps_the_clean_take_and_records_the_others(tmp_path):
    plan = make_plan([24, 30, 20])
    settings = ShotSettings(takes=3, scorer=score_take)
    res = run_in_order(plan, FlickerModel(), TakeCache(tmp_path), settings)
    for r in res:
        assert r.chosen == 1 and len(r.takes) == 3
        scores = [t.score for t in r.takes]
        assert scores[1] == max(scores) and len(set(scores)) == 3
        assert all({"stability"} <= set(t.scores) for t in r.takes)
        assert all("continuity" in t.scores for t in r.takes) == (r.index > 0)
    forced = run_in_order(plan, FlickerModel(), TakeCache(tmp_path), ShotSettings(takes=3, scorer=score_take, pick={2: 0}))
    assert [r.chosen for r in forced] == [1, 1, 0]


# ---------------------------------------------------------------- the command line

runner = CliRunner()

BOARD = """\
title: Takes
song: song.wav
seed: 11
output: {size: 160x90, fps: 24}
shots:
  - {prompt: first shot, length: 4 beats}
  - {prompt: second shot, length: 4 beats}
  - third shot
"""


@pytest.fixture()
def project(tmp_path, monkeypatch):
    """A storyboard whose takes come from FlickerModel: take 2 (numbered from 1) is the clean one of every shot."""
    from storyreel.pipeline import load_and_plan

    monkeypatch.setenv("STORYREEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("COLUMNS", "200")
    write_project(tmp_path, BOARD, 7.0)
    _, _, plan = load_and_plan(tmp_path / "board.yaml")
    use_backend(monkeypatch, FlickerModel(clean={s.seed + 1_000_003 for s in plan.shots}))
    return tmp_path


def _render(project, *args):
    result = runner.invoke(app, ["render", str(project / "board.yaml"), "-o", str(project / "out" / "reel.mp4"),
                                 *map(str, args)])
    record_path = project / "out" / "reel.plan.json"
    record = json.loads(record_path.read_text()) if result.exit_code == 0 else None
    return result.exit_code, " ".join(result.output.split()), record


def test_cli_takes_pick_and_only(project):
    code, output, record = _render(project, "--takes", 3)
    assert code == 0, output
    assert "9 takes generated, 0 from cache" in output
    assert [s["take"] for s in record["shots"]] == [1, 1, 1]  # the clean take of each shot
    assert all(len(s["takes"]) == 3 and all(t["score"] is not None for t in s["takes"]) for s in record["shots"])

    listing = runner.invoke(app, ["takes", str(project / "out" / "reel.plan.json")])
    assert listing.exit_code == 0, listing.output
    rows = [line for line in listing.output.splitlines() if re.match(r"^\s*│?\s*\d+\s*│", line)]
    assert len(rows) == 9  # every take of every shot is listed
    cells = [[c.strip() for c in row.split("│") if c.strip()] for row in rows]
    assert [c[:2] for c in cells if c[1].endswith("*")] == [["1", "2*"], ["2", "2*"], ["3", "2*"]]  # numbered from 1

    code, output, record = _render(project, "--takes", 3, "--pick", "2=3")
    assert code == 0, output
    assert [s["take"] for s in record["shots"]] == [1, 2, 1] and "0 takes generated" in output

    code, output, record = _render(project, "--takes", 3, "--only", "2")
    assert code == 0, output
    assert "3 takes generated, 6 from cache" in output
    assert [[t["cached"] for t in s["takes"]] for s in record["shots"]] == [[True] * 3, [False] * 3, [True] * 3]
    assert [s["take"] for s in record["shots"]] == [1, 1, 1]


@pytest.mark.parametrize("args, words", [
    (["--pick", "9=1"], "shot 9 does not exist"),
    (["--pick", "2=0"], "numbered from 1"),
    (["--pick", "two=1"], "is not SHOT=TAKE"),
    (["--only", "0"], "numbered from 1"),
    (["--only", "7"], "shot 7 does not exist"),
])
def test_cli_bad_pick_and_only_are_one_line_errors(project, args, words):
    code, output, _ = _render(project, *args)
    assert code == 2 and words in output and "Traceback" not in output, output


def test_takes_command_on_a_missing_or_wrong_file(tmp_path):
    result = runner.invoke(app, ["takes", str(tmp_path / "nope.plan.json")])
    assert result.exit_code == 2 and "file not found" in result.output
    (tmp_path / "x.json").write_text('{"title": 1}')
    result = runner.invoke(app, ["takes", str(tmp_path / "x.json")])
    assert result.exit_code == 2 and "not a storyreel plan" in result.output


def test_adherence_prefers_the_take_that_shows_the_prompt():
    # the built-in model's takes are also judged by the evaluation probe against the prompt
    from storyreel import world
    from storyreel.models.builtin.model import BuiltinModel

    adherence = BuiltinModel().adherence  # the probe only: the model's own weights stay unloaded

    def video(thing: world.Thing, setting: str) -> np.ndarray:
        scene = world.Scene((thing,), setting, "static")
        return world.render(scene, world.random_layout(scene, np.random.default_rng(1), 80 / 48), 48, 80, 16)

    prompt = "a red star moves right across a night sky"
    right = adherence(video(world.Thing("red", "star", "right"), "night sky"), prompt)
    wrong = adherence(video(world.Thing("blue", "circle", "up"), "meadow"), prompt)
    assert right is not None and wrong is not None
    assert right >= 0.75 > 0.25 >= wrong


def test_adherence_is_asked_of_the_backend_never_by_its_name():
    frames = make_take(16, seed=6)

    class Judging(FlickerModel):
        name = "not-builtin"

        def adherence(self, frames, prompt):
            return 1.0 if prompt == SHOT.prompt else 0.0

    class NamedBuiltin(FlickerModel):
        name = "builtin"  # the name alone earns no adherence part

    _, parts = score_take(frames, None, SHOT, Judging())
    assert parts["adherence"] == 1.0
    assert "adherence" not in score_take(frames, None, SHOT, NamedBuiltin())[1]
    assert "adherence" not in score_take(frames, None, SHOT)[1]
