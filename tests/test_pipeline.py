"""The pipeline as a user runs it: `plan`, `animatic` and `render` agree on every shot, and an edited plan renders.

The backend here is fakes.WorldModel under the name `nocond`: it declares no
image conditioning, so every continuous cut of the storyboard must become the
one-beat zoom-through in all three commands alike (before the Cut was computed
once in planning, `plan` and `animatic` showed cuts where `render` made
zoom-throughs).
"""

from __future__ import annotations

import json

import opentimelineio as otio
import pytest
from typer.testing import CliRunner

from fakes import RecordingModel, WorldModel, read_json, use_backend, write_project
from storyreel.cli import app
from storyreel.output.encode import probe
from storyreel.pipeline import RenderOptions, load_and_plan, plan_record
from storyreel.pipeline import render as run_render

runner = CliRunner()

BOARD = """\
title: Agreement
song: song.wav
model: nocond
output: {size: 160x96, fps: 24}
camera: {move: zoom_in, amount: 0.2, continuous: true}
shots:
  - {prompt: a yellow star stays still over a meadow, length: 1 bar}
  - {prompt: a red circle moves right in a day sky, length: 1 bar}
  - {prompt: a blue square moves up in the night sky, length: 1 bar, transition: {kind: crossfade, beats: 1}}
  - a green heart grows at sunset
"""


@pytest.fixture()
def project(tmp_path, monkeypatch):
    use_backend(monkeypatch, WorldModel(), name="nocond")
    monkeypatch.setenv("STORYREEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("STORYREEL_C2PA_CERT", raising=False)
    monkeypatch.delenv("STORYREEL_C2PA_KEY", raising=False)
    return write_project(tmp_path, BOARD, 8.0)


def _invoke(*args) -> str:
    res = runner.invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res.output


def _joins(plan: dict) -> list[tuple]:
    """Every shot's frames, transition and rendered overlap, as a plan JSON says them."""
    return [(s["start_frame"], s["end_frame"], s["transition"]["kind"], s["transition"]["frames"], c["pre"], c["post"])
            for s, c in zip(plan["shots"], plan["cut"])]


def test_plan_animatic_and_render_agree_on_every_transition_without_image_conditioning(project):
    planned = json.loads(_invoke("plan", project, "--json"))
    animatic = project.parent / "a.mp4"
    _invoke("animatic", project, "-o", animatic, "--size", "160x96")
    previewed = read_json(animatic.with_name("a.plan.json"))
    out = project.parent / "out" / "v.mp4"
    _invoke("render", project, "-o", out)
    rendered = read_json(out.with_name("v.plan.json"))

    kinds = [s["transition"]["kind"] for s in planned["shots"]]
    assert kinds == ["cut", "zoom_through", "crossfade", "zoom_through"]  # the fallback, as planned
    assert _joins(planned) == _joins(previewed) == _joins(rendered)
    assert [s["prompt"] for s in planned["shots"]] == [s["prompt"] for s in rendered["shots"]]
    assert not any(s["conditioned_on_previous"] for s in rendered["shots"])
    # the video itself was cut that way: its timeline has a transition of the planned kind and length at each join
    track = otio.adapters.read_from_file(str(out.with_name("v.otio"))).video_tracks()[0]
    made = [(t.name, t.in_offset.to_frames(), t.out_offset.to_frames()) for t in track
            if isinstance(t, otio.schema.Transition)]
    assert made == [(k, pre, post) for _, _, k, _, pre, post in _joins(planned) if k != "cut"]
    # and the table shows the same
    table = " ".join(_invoke("plan", project).split())
    assert table.count("zoom_through") == 2 and "crossfade" in table


def test_an_edited_plan_renders_as_edited(project, monkeypatch):
    plan = json.loads(_invoke("plan", project, "--json"))
    plan["shots"][1]["prompt"] = "a pink triangle moves left over a meadow"
    plan["shots"][2]["transition"] = {"kind": "cut", "beats": 0.0, "frames": 0}
    plan["shots"][3]["seed"] = 12345
    edited = project.parent / "edited.plan.json"
    edited.write_text(json.dumps(plan, indent=2))
    model = RecordingModel(capabilities={"t2v", "extend"})
    use_backend(monkeypatch, model, name="nocond")
    out = project.parent / "out" / "e.mp4"
    _invoke("render", edited, "-o", out)
    record = read_json(out.with_name("e.plan.json"))
    assert record["shots"][1]["prompt"] == "a pink triangle moves left over a meadow"
    assert [c["kind"] for c in record["cut"]] == ["cut", "zoom_through", "cut", "zoom_through"]
    assert {q.prompt for q in model.requests} >= {"a pink triangle moves left over a meadow"}
    assert any(q.seed == 12345 for q in model.requests)
    assert probe(out)["frames"] == plan["frames"]
    assert read_json(out.with_name("e.manifest.json"))["storyboard"]["file"] == str(edited)


def test_an_edited_plan_keeps_its_model(project):
    _, _, plan = load_and_plan(project)
    path = project.parent / "p.plan.json"
    path.write_text(json.dumps(plan.to_dict()))
    res = runner.invoke(app, ["render", str(path), "-o", str(project.parent / "x.mp4"), "--model", "builtin"])
    assert res.exit_code == 2 and "made for model nocond" in res.output and len(res.output.strip().splitlines()) == 1


def test_a_mistake_in_an_edited_plan_is_one_line_and_nothing_is_written(project):
    plan = json.loads(_invoke("plan", project, "--json"))
    plan["shots"][2]["camera"]["move"] = "spin"
    path = project.parent / "bad.plan.json"
    path.write_text(json.dumps(plan, indent=2))
    out = project.parent / "o" / "x.mp4"
    res = runner.invoke(app, ["render", str(path), "-o", str(out)])
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if '"spin"' in t)
    assert res.exit_code == 2 and f"bad.plan.json:{line}: shots[2].camera.move" in " ".join(res.output.split())
    assert not out.exists()


def test_plan_json_shows_the_zoom_through_fallback_note(project):
    _, _, plan = load_and_plan(project)
    record = json.loads(json.dumps(plan_record(plan)))
    assert record["shots"][1]["transition"]["kind"] == "zoom_through"
    assert any("falls back to a zoom-through" in n for n in record["shots"][1]["notes"])


def test_render_reports_progress_through_a_callback(project):
    events = []
    rep = run_render(project, project.parent / "cb.mp4", RenderOptions(), progress=events.append)
    tasks = [e.task for e in events]
    assert {"analysis", "generation", "encoding"} <= set(tasks)
    generation = [e for e in events if e.task == "generation"]
    assert generation[-1].done == generation[-1].total == rep.shots == 4
    assert [e.done for e in events if e.task == "encoding"][-1] == round(8.0 * 24)


class _Upsampling(WorldModel):
    """WorldModel with a 2x super-resolution stage that counts its calls and the sizes it was given."""

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []

    def upsample(self, frames):
        self.sizes.append(frames.shape[1:3])
        return frames.repeat(2, axis=1).repeat(2, axis=2)


def test_render_runs_the_super_resolution_stage_once_per_shot_on_native_frames_unless_told_not_to(project, monkeypatch):
    tmp_path = project.parent
    model = _Upsampling()
    use_backend(monkeypatch, model, name="nocond")
    rep = run_render(project, tmp_path / "sr.mp4", RenderOptions())
    assert model.sizes == [(48, 80)] * rep.shots and "upsampling" in rep.stages
    assert probe(tmp_path / "sr.mp4")["width"] == 160  # the output size is the plan's, whatever the source's
    model.sizes.clear()
    _invoke("render", project, "-o", tmp_path / "native.mp4", "--no-sr")
    assert model.sizes == []


def test_a_continuous_cut_shows_the_same_picture_on_both_sides_at_the_sr_size():
    """The hand-off frame a conditioned shot starts from is made again from the previous shot's upscaled frames,
    so the cut's first frame is the camera's view of what the viewer just saw, not an upscale of a native crop."""
    import numpy as np

    from fakes import make_plan
    from storyreel.pipeline import upsample_takes
    from storyreel.plan import CameraMove
    from storyreel.render import continuity

    plan = make_plan([24, 24], width=160, height=96, cameras=[CameraMove("zoom_in", 0.5, continuous=True)] * 2)
    rng = np.random.default_rng(0)
    native = [rng.integers(0, 255, (8, 48, 80, 3), dtype=np.uint8) for _ in range(2)]
    up = upsample_takes(_Upsampling(), native, handoffs=[False, True], plan=plan, fps=[8.0, 8.0])
    assert up[0].shape == (8, 96, 160, 3)
    assert np.array_equal(up[1][0], continuity.handoff_frame(plan, 0, up[0], 8.0))
    assert np.array_equal(up[1][1:], native[1][1:].repeat(2, axis=1).repeat(2, axis=2))  # the rest as upscaled
    plain = upsample_takes(_Upsampling(), native)
    assert np.array_equal(plain[1], native[1].repeat(2, axis=1).repeat(2, axis=2))
