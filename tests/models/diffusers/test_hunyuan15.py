"""HunyuanVideo 1.5 offline on tiny saved pipelines: text-to-video on its resolution bucket, a hand-off frame
through its image-to-video partner (which picks the size from the image: the bucket size_for chose), guidance
through the guider."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from fakes import make_plan
from storyreel.models.base import GenerationRequest
from storyreel.models.diffusers import DiffusersOptions, HunyuanVideo15Model, open_model
from storyreel.plan import CameraMove
from storyreel.render.cache import TakeCache
from storyreel.render.takes import ShotSettings, run_in_order
from tiny_pipelines import build_one

pytest.importorskip("diffusers")


@pytest.fixture(scope="module")
def pipes(tmp_path_factory):
    return build_one(tmp_path_factory, "hunyuan15-t2v"), build_one(tmp_path_factory, "hunyuan15-i2v")


@pytest.fixture()
def calls(monkeypatch):
    import diffusers

    seen = []
    for name in HunyuanVideo15Model.pipeline_classes.values():
        cls = getattr(diffusers, name)

        def spy(self, *args, _real=cls.__call__, **kwargs):
            seen.append({"pipeline": type(self).__name__, "guidance": self.guider.guidance_scale, **kwargs})
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__call__", spy)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return seen


def model(pipes, **kw):
    t2v, i2v = pipes
    return open_model(str(t2v), DiffusersOptions(frames=9, steps=2, i2v_model=str(i2v), guidance=4.5, **kw))


def test_the_480p_row_runs_its_step_distilled_image_to_video_model_at_8_steps():
    m = open_model("hunyuanvideo-1.5-480p")
    req = GenerationRequest("x", height=480, width=848, frames=121, first_frames=np.zeros((1, 480, 848, 3), np.uint8))
    args, role, used = m.call_args(req, "i2v")
    assert (args["num_inference_steps"], role, used) == (8, "i2v", 1)
    assert "num_inference_steps" not in m.call_args(replace(req, steps=20), "i2v")[0]


def test_grid_buckets_and_capabilities(pipes):
    m = model(pipes)
    assert isinstance(m, HunyuanVideo15Model) and (m.native.size_multiple, m.native.frame_rule) == (4, (2, 1))
    assert m.capabilities == {"t2v", "i2v", "extend"}
    assert m.size_for(320, 160) == (12, 20)  # the i2v pipeline's own bucket for a 2:1 picture
    assert open_model(str(pipes[0]), DiffusersOptions()).capabilities == {"t2v"}  # no partner: no continuity


def test_a_continuous_shot_goes_through_the_image_to_video_partner_on_the_same_bucket(pipes, calls, tmp_path):
    cams = [CameraMove(move="static", continuous=True)] * 2
    plan = make_plan([8, 8], cameras=cams, width=320, height=160)  # 9 native frames each: one generation
    res = run_in_order(plan, model(pipes), TakeCache(tmp_path), ShotSettings())
    assert [c["pipeline"] for c in calls] == ["HunyuanVideo15Pipeline", "HunyuanVideo15ImageToVideoPipeline"]
    assert (calls[0]["height"], calls[0]["width"]) == (12, 20) and "height" not in calls[1]
    assert calls[0]["guidance"] == 4.5 and "guidance_scale" not in calls[0]
    assert res[1].conditioned_on_previous and res[1].clip.frames.shape == (9, 12, 20, 3)
