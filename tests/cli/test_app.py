"""The command line as a user runs it: render end to end, and every kind of bad input."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
from typer.testing import CliRunner

from fakes import make_song
from storyreel.cli import app
from storyreel.output.encode import probe

runner = CliRunner()

STORYBOARD = """\
title: Test reel
song: song.wav
output: {size: 320x180, fps: 24}
characters:
  hero: a yellow star
camera: {move: zoom_in, amount: 0.08, continuous: true}
shots:
  - prompt: "{hero} stays still over a meadow"
    length: 2 bars
  - prompt: "{hero} moves right in a day sky"
    length: 1 bar
    transition: {kind: crossfade, beats: 1}
  - prompt: "{hero} moves up in the night sky"
"""


@pytest.fixture()
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("STORYREEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    make_song(tmp_path / "song.wav", 12.0)
    (tmp_path / "board.yaml").write_text(STORYBOARD)
    return tmp_path


def _invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.mark.slow
def test_render_writes_video_plan_timeline_and_contact_sheet(project):
    out = project / "out" / "reel.mp4"
    code, output = _invoke("render", project / "board.yaml", "-o", out)
    assert code == 0, output
    info = probe(out)
    assert (info["width"], info["height"], info["video_codec"], info["audio_codec"]) == (320, 180, "h264", "aac")
    plan = json.loads((project / "out" / "reel.plan.json").read_text())
    assert info["frames"] == plan["frames"] and abs(info["duration"] - 12.0) <= 1 / 24
    assert "storyreel" in json.dumps(info["metadata"]) and "builtin" in json.dumps(info["metadata"])
    shots = plan["shots"]
    assert shots[0]["start_frame"] == 0 and shots[-1]["end_frame"] == plan["frames"]
    assert all(a["end_frame"] == b["start_frame"] for a, b in zip(shots, shots[1:]))
    timeline = otio.adapters.read_from_file(str(project / "out" / "reel.otio"))
    clips = list(timeline.video_tracks()[0].find_clips())
    assert [(c.source_range.start_time.to_frames(), c.source_range.duration.to_frames()) for c in clips] == [
        (s["start_frame"], s["end_frame"] - s["start_frame"]) for s in shots
    ]
    assert timeline.audio_tracks()
    assert (project / "out" / "reel.contact.png").stat().st_size > 1000
    # a second render reuses every take from the cache
    code, output = _invoke("render", project / "board.yaml", "-o", out)
    assert code == 0 and "0 takes generated" in output.replace("\n", " ")


def test_plan_json_and_table(project):
    code, output = _invoke("plan", project / "board.yaml", "--json")
    assert code == 0, output
    plan = json.loads(output)
    assert len(plan["shots"]) == 3 and plan["fps"] == 24
    code, output = _invoke("plan", project / "board.yaml")
    assert code == 0 and "Test reel" in output
    code, output = _invoke("plan", project / "board.yaml", "--reads")
    assert code == 0 and "  3  builtin reads: a yellow star moves up in the night sky" in output
    code, output = _invoke("plan", project / "board.yaml", "--reads", "--model", "builtin-v1")
    assert code == 0 and "builtin-v1 reads each prompt as written" in output


def test_analyze_json_and_plot(project):
    code, output = _invoke("analyze", project / "song.wav", "--json", "--plot", project / "song.png")
    assert code == 0, output
    data = json.loads(output[: output.rindex("}") + 1])
    assert {"duration", "tempo", "beats", "downbeats", "sections"} <= set(data)
    assert (project / "song.png").exists()


BAD = {
    "missing song": ("song: song.wav", "song: nowhere.wav", "nowhere.wav"),
    "unknown field": ("title: Test reel", "title: Test reel\ncolour: red", "colour"),
    "malformed yaml": ("title: Test reel", "title: [Test reel", "board.yaml:"),
    "impossible length": ("    length: 1 bar", "    length: 400 bars", "length"),
    "undefined name": ("{hero} moves up", "{villain} moves up", "villain"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_storyboards_give_one_line_exit_2_and_no_output(project, case):
    old, new, needle = BAD[case]
    board = project / "board.yaml"
    board.write_text(STORYBOARD.replace(old, new, 1))
    out = project / "o" / "x.mp4"
    code, output = _invoke("render", board, "-o", out)
    assert code == 2, output
    assert needle in output and "Traceback" not in output
    assert len(output.strip().splitlines()) == 1
    assert not out.exists() and not list((project / "o").glob("x.*")) if (project / "o").exists() else True


def test_corrupt_audio_is_a_clear_error(project):
    (project / "song.wav").write_bytes(b"RIFF" + bytes(range(256)) * 40)
    code, output = _invoke("render", project / "board.yaml", "-o", project / "x.mp4")
    assert code == 2 and "song.wav" in output and not (project / "x.mp4").exists()


def test_unwritable_output_is_a_clear_error(project):
    blocker = project / "file"
    blocker.write_text("not a directory")
    code, output = _invoke("render", project / "board.yaml", "-o", blocker / "x.mp4")
    assert code == 2 and "x.mp4" in output


def test_cli_runs_as_a_subprocess():
    proc = subprocess.run([sys.executable, "-m", "storyreel.cli", "plan", "/nonexistent.yaml"], capture_output=True, text=True)
    assert proc.returncode == 2 and "nonexistent.yaml" in proc.stderr and "Traceback" not in proc.stderr


def test_storyboard_can_force_the_meter(project):
    board = project / "board.yaml"
    board.write_text(STORYBOARD.replace("title: Test reel", "title: Test reel\nbeats_per_bar: 3", 1))
    code, output = _invoke("plan", board, "--json")
    assert code == 0, output
    shots = json.loads(output)["shots"]
    # the click track beats every 0.5 s: "1 bar" is now 3 beats, 1.5 s (the first shot, 2 bars, also absorbs the lead-in)
    assert abs((shots[1]["end"] - shots[1]["start"]) - 1.5) < 0.05
