"""The animatic: one still per shot, held for its length, with the song; no model."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from fakes import make_plan, make_song
from storyreel.cli import app
from storyreel.output import animatic
from storyreel.output.encode import probe
from storyreel.plan import Transition

runner = CliRunner()


def test_world_still_draws_prompts_the_world_knows_and_nothing_else():
    still = animatic.world_still("a red circle moves right in the night sky, 1980s film", 90, 160)
    assert still.shape == (90, 160, 3) and still.std() > 1
    assert animatic.world_still("a couple dances in a kitchen", 90, 160) is None


def test_cards_hold_for_each_shot_with_a_progress_bar_and_beat_dots():
    plan = make_plan([12, 24], width=320, height=180, transitions=[Transition(), Transition("crossfade", 1, 6)])
    plan.shots[0].prompt = "a yellow star stays still over a meadow"
    frames = list(animatic.animatic_frames(plan, (320, 180), beats=[0.25], downbeats=[0.75]))
    assert len(frames) == plan.frames and frames[0].shape == (180, 320, 3)
    body = slice(20, 160)  # below the beat dot, above the progress bar
    assert all(np.array_equal(f[body], frames[0][body]) for f in frames[:12])  # shot 1 holds one still
    assert not np.array_equal(frames[12][body], frames[0][body])  # shot 2 has its own card
    bar = lambda f: int((f[-1] == (255, 200, 80)).all(-1).sum())  # noqa: E731
    assert bar(frames[0]) < bar(frames[6]) < bar(frames[11]) == 320
    dot = lambda f: int((f[:20, -40:] == 255).all(-1).sum())  # noqa: E731
    assert dot(frames[6]) > 0 and dot(frames[18]) > dot(frames[6]) and dot(frames[10]) == 0


@pytest.mark.parametrize("size", [None, "160x96"])
def test_animatic_command_writes_the_song_length_preview(tmp_path, monkeypatch, size):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    make_song(tmp_path / "song.wav", 5.0)
    (tmp_path / "board.yaml").write_text(
        "title: t\nsong: song.wav\noutput: {size: 1280x720, fps: 24}\n"
        "shots:\n  - prompt: a yellow star stays still over a meadow\n  - prompt: a couple dances in the kitchen\n")
    out = tmp_path / "a.mp4"
    args = ["animatic", str(tmp_path / "board.yaml"), "-o", str(out)] + (["--size", size] if size else [])
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    info = probe(out)
    assert (info["width"], info["height"]) == ((640, 360) if size is None else (160, 96))
    assert info["frames"] == 120 and info["audio_codec"] == "aac" and "animatic" in info["metadata"]["comment"]
    plan = json.loads(out.with_name("a.plan.json").read_text())  # the plan it shows, renderable as it is
    assert plan["frames"] == 120 and len(plan["shots"]) == 2 and "a.plan.json" in res.output
