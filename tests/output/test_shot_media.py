"""Every shot as its own MP4, of exactly its length; a render with --export-shots whose OTIO uses them."""

import json

import numpy as np
import opentimelineio as otio
from typer.testing import CliRunner

from fakes import WorldModel, make_plan, make_song, use_backend
from storyreel.cli import app
from storyreel.fsio import Outputs
from storyreel.output.encode import probe
from storyreel.output.interchange import available_interchange
from storyreel.output.shot_media import ShotMediaWriter, tee_shots
from storyreel.plan import Transition

runner = CliRunner()


def _plan():
    plan = make_plan([30, 20, 26], width=64, height=48, sections=["A", "A", "B"],
                     transitions=[Transition(), Transition("crossfade", 1, 6), Transition("zoom_through", 1, 4)])
    return plan


def _frames(plan):
    for g in range(plan.frames):
        yield np.full((plan.height, plan.width, 3), (g * 3) % 256, np.uint8)


def test_shot_media_writer_splits_the_stream_into_one_file_per_shot_of_exactly_its_length(tmp_path):
    plan = _plan()
    writer = ShotMediaWriter(plan, Outputs.of(tmp_path / "v.mp4").shot_files(len(plan.shots)))
    assert sum(1 for _ in tee_shots(_frames(plan), writer)) == plan.frames
    paths = writer.close()
    assert [p.name for p in paths] == ["shot_01.mp4", "shot_02.mp4", "shot_03.mp4"]
    assert [probe(p)["frames"] for p in paths] == [s.frames for s in plan.shots]
    assert not list((tmp_path / "v.shots").glob(".*"))


def test_render_export_shots_writes_clips_the_otio_uses(tmp_path, monkeypatch):
    use_backend(monkeypatch, WorldModel())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("STORYREEL_C2PA_CERT", raising=False)
    monkeypatch.delenv("STORYREEL_C2PA_KEY", raising=False)
    make_song(tmp_path / "song.wav", 6.0)
    (tmp_path / "board.yaml").write_text(
        "title: t\nsong: song.wav\noutput: {size: 160x96, fps: 24}\nshots:\n"
        "  - prompt: a yellow star stays still over a meadow\n  - prompt: a red circle moves right in a day sky\n"
        "    transition: {kind: crossfade, beats: 1}\n  - prompt: a blue square moves up in the night sky\n")
    out = tmp_path / "out" / "v.mp4"
    res = runner.invoke(app, ["render", str(tmp_path / "board.yaml"), "-o", str(out), "--export-shots",
                              "--cache-dir", str(tmp_path / "cache")])
    assert res.exit_code == 0, res.output
    plan = json.loads((tmp_path / "out" / "v.plan.json").read_text())
    tl = otio.adapters.read_from_file(str(tmp_path / "out" / "v.otio"))
    clips = list(tl.video_tracks()[0].find_clips())
    lengths = [s["end_frame"] - s["start_frame"] for s in plan["shots"]]
    assert [c.source_range.duration.to_frames() for c in clips] == lengths
    files = [otio.url_utils.filepath_from_url(c.media_reference.target_url) for c in clips]
    assert [probe(f)["frames"] for f in files] == lengths
    assert sorted(p.name for p in (tmp_path / "out" / "v.shots").iterdir()) == ["shot_01.mp4", "shot_02.mp4", "shot_03.mp4"]
    assert any(m.name == "bar 1" for m in tl.video_tracks()[0].markers)
    if set(available_interchange()) >= {"fcp_xml", "cmx_3600"}:
        assert (tmp_path / "out" / "v.xml").exists() and (tmp_path / "out" / "v.edl").exists()
