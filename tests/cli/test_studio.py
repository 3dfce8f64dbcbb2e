"""`storyreel studio`: registered, and a missing storyboard is the CLI's one-line error."""

from __future__ import annotations

from typer.testing import CliRunner

from storyreel.cli import app

runner = CliRunner()


def test_studio_is_a_command():
    res = runner.invoke(app, ["studio", "--help"])
    assert res.exit_code == 0 and "--port" in res.output and "--host" in res.output


def test_a_missing_storyboard_is_one_line(tmp_path):
    res = runner.invoke(app, ["studio", str(tmp_path / "nope.yaml")])
    assert res.exit_code != 0 and "no such storyboard file" in res.output
