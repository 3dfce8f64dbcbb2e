"""A render carries its provenance (watermark, manifest, C2PA) and `storyreel verify` reports it; as a user runs it."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from fakes import SIZE, WorldModel, make_song, use_backend, world_frames
from fakes import c2pa_credentials as creds  # noqa: F401 - a fixture
from storyreel.cli import app
from storyreel.output.encode import encode
from storyreel.provenance.manifest import read_manifest

runner = CliRunner()


STORYBOARD = """\
title: Provenance reel
song: song.wav
output: {size: 640x360, fps: 24}
shots:
  - prompt: "a yellow star stays still over a meadow"
    length: 2 bars
  - prompt: "a red circle moves right in a day sky"
    transition: {kind: crossfade, beats: 1}
"""


@pytest.fixture()
def project(tmp_path, monkeypatch):
    use_backend(monkeypatch, WorldModel())
    monkeypatch.setenv("STORYREEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("STORYREEL_POLICY", raising=False)
    make_song(tmp_path / "song.wav", 6.0)
    (tmp_path / "board.yaml").write_text(STORYBOARD)
    return tmp_path


def test_render_watermarks_writes_manifest_signs_and_verify_reports_it(project, creds, monkeypatch):
    (cert, ca) = creds
    monkeypatch.setenv("STORYREEL_C2PA_CERT", str(cert.cert))
    monkeypatch.setenv("STORYREEL_C2PA_KEY", str(cert.key))
    out = project / "out" / "reel.mp4"
    res = runner.invoke(app, ["render", str(project / "board.yaml"), "-o", str(out), "--cache-dir", str(project / "cache")])
    assert res.exit_code == 0, res.output
    m = read_manifest(project / "out" / "reel.manifest.json")
    plan = json.loads((project / "out" / "reel.plan.json").read_text())
    assert [s["take_key"] for s in m["shots"]] == [s["takes"][s["take"]]["key"] for s in plan["shots"]]
    assert m["c2pa"]["embedded"] and m["models"] == ["worldfake"]

    res = runner.invoke(app, ["verify", str(out), "--trust", str(ca)])
    text = " ".join(res.output.split())
    assert res.exit_code == 0, res.output
    assert "watermark detected: storyrl v1 (bit accuracy 100.0%" in text
    assert "the video's hash matches" in text and "Trusted" in text and "declares AI-generated" in text
    rep = json.loads(runner.invoke(app, ["verify", str(out), "--json"]).output)
    assert rep["watermark"]["detected"] and rep["c2pa"]["ai_generated"] and rep["manifest"]["shots"] == 2

    plain = encode(iter(world_frames(9, 8)), 8, 24, SIZE, None, project / "plain.mp4")
    res = runner.invoke(app, ["verify", str(plain)])
    assert res.exit_code == 1 and "not detected" in res.output and "no storyreel provenance" in res.output


def test_verify_a_missing_file_is_a_clear_error_as_a_subprocess(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "storyreel.cli", "verify", str(tmp_path / "nope.mp4")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "file not found" in proc.stderr and "Traceback" not in proc.stderr
