"""`storyreel generate` from the command line: every conditioning mode writes the clip it promises."""

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from storyreel.cli import app
from storyreel.models.builtin.weights import WEIGHTS_DIR
from storyreel.output.clip import read_frames

pytestmark = pytest.mark.skipif(not (WEIGHTS_DIR / "config.json").exists(), reason="no trained weights")
runner = CliRunner()


def _gen(tmp_path, name, *args):
    out = tmp_path / name
    res = runner.invoke(app, ["generate", "a red star moves right across a night sky", "-o", str(out), "--steps", "4",
                              "--scale", "1", *map(str, args)])
    assert res.exit_code == 0, res.output
    return read_frames(out)


def test_text_to_video_and_longer_by_extension(tmp_path):
    clip = _gen(tmp_path, "a.mp4")
    assert clip.shape == (16, 192, 320, 3)  # --scale 1: the default model's 4x stage
    longer = _gen(tmp_path, "b.mp4", "--seconds", "5")
    assert len(longer) == 40


def test_no_sr_writes_the_native_size_as_does_v1_which_has_no_sr_stage(tmp_path):
    assert _gen(tmp_path, "n.mp4", "--no-sr").shape == (16, 48, 80, 3)
    assert _gen(tmp_path, "v1.mp4", "--model", "builtin-v1").shape == (16, 48, 80, 3)
    assert _gen(tmp_path, "v2.mp4", "--model", "builtin-v2", "--steps", "2").shape == (16, 192, 320, 3)  # old name


def test_image_extend_connect_loop_restyle(tmp_path):
    img = np.zeros((48, 80, 3), np.uint8)
    img[:, :, 2] = 200
    Image.fromarray(img).save(tmp_path / "start.png")
    assert _gen(tmp_path, "i.mp4", "--image", tmp_path / "start.png").shape[0] == 16
    base = tmp_path / "a.mp4"
    _gen(tmp_path, "a.mp4")
    assert len(_gen(tmp_path, "e.mp4", "--extend", base, "--seconds", "2")) == 32  # the clip, then 2 s more
    assert len(_gen(tmp_path, "c.mp4", "--connect", base, base)) == 16 + 14 + 16
    assert len(_gen(tmp_path, "l.mp4", "--loop")) == 16 + 14
    assert len(_gen(tmp_path, "r.mp4", "--restyle", base, "--strength", "0.5")) == 16


def test_scale_default_makes_a_watchable_size(tmp_path):
    out = tmp_path / "s.mp4"
    res = runner.invoke(app, ["generate", "a red star", "-o", str(out), "--steps", "2"])
    assert res.exit_code == 0, res.output
    assert read_frames(out).shape[1:3] == (384, 640)


def test_two_modes_at_once_is_an_error(tmp_path):
    Image.fromarray(np.zeros((48, 80, 3), np.uint8)).save(tmp_path / "start.png")
    res = runner.invoke(app, ["generate", "x", "-o", str(tmp_path / "x.mp4"), "--loop", "--image", str(tmp_path / "start.png")])
    assert res.exit_code == 2 and "at most one" in res.output and not (tmp_path / "x.mp4").exists()


def test_it_says_what_the_built_in_model_read_before_generating(tmp_path):
    res = runner.invoke(app, ["generate", "a tomato-red gizmo is sinking at dusk", "-o", str(tmp_path / "r.mp4"),
                              "--steps", "2", "--scale", "1", "--seconds", "1"])
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())  # rich may wrap the line
    assert "builtin reads this as:" in said and "red" in said and "moves down" in said and "sunset" in said
    v1 = runner.invoke(app, ["generate", "a red star", "-o", str(tmp_path / "v1.mp4"), "--model", "builtin-v1",
                             "--steps", "2", "--seconds", "1"])
    assert v1.exit_code == 0 and "reads this as" not in v1.output  # v1 reads the prompt itself
