"""LTX-2 offline on a tiny saved pipeline: text-, image- and keyframe-conditioned generation through its three
pipelines, its generated audio dropped, and `storyreel render --model DIR` end to end."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from fakes import make_song
from storyreel.models.base import GenerationRequest
from storyreel.models.diffusers import DiffusersOptions, LTX2Model, open_model
from fakes import make_plan
from storyreel.plan import CameraMove
from storyreel.render.cache import TakeCache
from storyreel.render.takes import ShotSettings, moves_in_generation, run_in_order
from tiny_pipelines import build_one, camera_lora

pytest.importorskip("diffusers")


@pytest.fixture(scope="module")
def ltx2(tmp_path_factory):
    return build_one(tmp_path_factory, "ltx2")


@pytest.fixture()
def calls(monkeypatch):
    import diffusers

    seen = []
    for name in LTX2Model.pipeline_classes.values():
        cls = getattr(diffusers, name)

        def spy(self, *args, _real=cls.__call__, **kwargs):
            seen.append({"pipeline": type(self).__name__, **kwargs})
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__call__", spy)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return seen


def model(path):
    return open_model(str(path), DiffusersOptions(size=(32, 64), frames=9, steps=2))


def test_text_to_video_on_its_grid_with_the_audio_dropped(ltx2, calls):
    m = model(ltx2)
    assert isinstance(m, LTX2Model) and (m.native.size_multiple, m.native.frame_rule) == (32, (2, 1))
    clip = m.generate(GenerationRequest("a star over the sea", height=32, width=64, frames=9, steps=2))
    assert clip.frames.shape == (9, 32, 64, 3) and calls[-1]["pipeline"] == "LTX2Pipeline"
    assert calls[-1]["frame_rate"] == 24.0 and "dropped" in clip.info["audio"]


def test_a_handoff_frame_goes_to_image_to_video_and_a_landing_frame_to_a_keyframe_at_the_end(ltx2, calls):
    m = model(ltx2)
    first = np.full((1, 32, 64, 3), 60, np.uint8)
    m.generate(GenerationRequest("a star", height=32, width=64, frames=9, steps=2, first_frames=first))
    assert calls[-1]["pipeline"] == "LTX2ImageToVideoPipeline" and np.asarray(calls[-1]["image"]).mean() == 60
    last = np.full((1, 32, 64, 3), 200, np.uint8)
    clip = m.generate(GenerationRequest("a star", height=32, width=64, frames=9, steps=2, first_frames=first,
                                        last_frames=last))
    call = calls[-1]
    assert call["pipeline"] == "LTX2ConditionPipeline" and [c.index for c in call["conditions"]] == [0, -1]
    assert np.asarray(call["conditions"][1].frames).mean() == 200 and clip.info["mode"] == "connect"


def test_the_two_stage_path_generates_at_half_size_upsamples_and_refines(ltx2, calls, tmp_path_factory):
    up = build_one(tmp_path_factory, "ltx2-upsampler")
    m = open_model(str(ltx2), DiffusersOptions(size=(64, 64), frames=9, steps=2, upsampler=str(up)))
    m.check_available()
    clip = m.generate(GenerationRequest("a star over the sea", height=64, width=64, frames=9, steps=2))
    first, second = calls[-2], calls[-1]
    assert (first["height"], first["width"], first["output_type"]) == (32, 32, "latent")
    assert second["latents"].shape[-2:] == (32, 32) and second["num_inference_steps"] == 3
    assert clip.frames.shape == (9, 64, 64, 3) and clip.info["two_stage"]["first"] == [32, 32]


def test_a_camera_move_with_a_lora_is_made_by_the_model_and_the_edit_holds_still(ltx2, tmp_path, monkeypatch):
    pytest.importorskip("peft")
    import diffusers

    camera_lora(ltx2, tmp_path / "loras", "dolly-in")
    active = []
    real = diffusers.LTX2Pipeline.__call__

    def spy(self, *args, **kwargs):
        active.append(self.get_active_adapters() if getattr(self.transformer, "_hf_peft_config_loaded", False) else [])
        return real(self, *args, **kwargs)

    monkeypatch.setattr(diffusers.LTX2Pipeline, "__call__", spy)
    m = open_model(str(ltx2), DiffusersOptions(size=(32, 64), frames=9, steps=2, camera_loras=str(tmp_path / "loras")))
    assert m.camera_lora_for("zoom_in") == "dolly-in" and m.camera_lora_for("pan_left") is None  # no file for it
    plan = make_plan([8, 8], width=64, height=32,
                     cameras=[CameraMove(move="zoom_in", amount=0.2), CameraMove(move="pan_left", amount=0.2)])
    plan, moves = moves_in_generation(plan, m)
    assert moves == {0: "zoom_in"} and [s.camera.move for s in plan.shots] == ["static", "pan_left"]
    res = run_in_order(plan, m, TakeCache(tmp_path / "cache"), ShotSettings(camera_moves=moves))
    assert res[0].clip.info["camera_lora"] == "dolly-in" and "camera_lora" not in res[1].clip.info
    assert active[0] == ["dolly-in"]  # the LoRA was on for the zoom_in shot's generation


@pytest.mark.slow
def test_render_with_model_ltx2_on_the_tiny_pipeline(ltx2, tmp_path):
    make_song(tmp_path / "song.wav", 6.0)
    (tmp_path / "board.yaml").write_text(f"""\
title: LTX-2 reel
song: song.wav
tempo: 120
model: {ltx2}
model_options: {{size: 32x32, frames: 9, steps: 1}}
output: {{size: 128x64, fps: 24}}
camera: {{move: static, continuous: true}}
shots:
  - prompt: a star over the sea
    length: 1 bar
  - prompt: the star in the night sky
""")
    env = {"HF_HUB_OFFLINE": "1", "STORYREEL_CACHE": str(tmp_path / "cache"), "XDG_CACHE_HOME": str(tmp_path / "x"),
           "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "storyreel.cli", "render", str(tmp_path / "board.yaml"), "-o",
                           str(tmp_path / "out.mp4")], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    shots = json.loads((tmp_path / "out.plan.json").read_text())["shots"]
    # longer than one 9-frame generation: extended through keyframe conditions; shot 2 continues shot 1
    assert {s["generated"]["pipeline"] for s in shots} <= set(LTX2Model.pipeline_classes.values())
    assert shots[0]["generated"]["generations"] > 1 and shots[1]["conditioned_on_previous"]
    assert all("dropped" in s["generated"]["audio"] for s in shots)
    assert "estimate:" in proc.stderr
