"""SkyReels-V2 diffusion forcing offline on a tiny saved pipeline: a shot longer than one window is one
generation (models.chain asks for it whole), and the estimate counts one generation."""

from __future__ import annotations

import numpy as np
import pytest

from fakes import make_plan
from storyreel.models import chain
from storyreel.models.base import GenerationRequest
from storyreel.models.diffusers import DiffusersOptions, SkyReelsModel, open_model
from storyreel.render.estimate import estimate
from tiny_pipelines import build_one

pytest.importorskip("diffusers")


@pytest.fixture(scope="module")
def df(tmp_path_factory):
    return build_one(tmp_path_factory, "skyreels-df")


@pytest.fixture()
def calls(monkeypatch):
    import diffusers

    seen = []
    for name in SkyReelsModel.pipeline_classes.values():
        cls = getattr(diffusers, name)

        def spy(self, *args, _real=cls.__call__, **kwargs):
            seen.append({"pipeline": type(self).__name__, **kwargs})
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__call__", spy)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return seen


def model(path):
    return open_model(str(path), DiffusersOptions(size=(32, 48), frames=9, steps=2))


def test_a_shot_longer_than_a_window_is_one_diffusion_forcing_generation(df, calls):
    m = model(df)
    assert "long" in m.capabilities and m.native.frames == 9
    clip = chain.generate_long(m, GenerationRequest("a star over the sea", height=32, width=48, frames=9, steps=2),
                               n_frames=33)
    assert len(calls) == 1 and clip.info["generations"] == 1 and clip.info["long"]
    call = calls[0]
    assert (call["num_frames"], call["base_num_frames"], call["overlap_history"]) == (33, 9, 5)
    assert call["addnoise_condition"] == 20.0 and clip.frames.shape == (33, 32, 48, 3)


def test_a_first_frame_goes_to_the_image_to_video_pipeline_on_the_same_weights(df, calls):
    first = np.full((1, 32, 48, 3), 90, np.uint8)
    clip = model(df).generate(GenerationRequest("a star", height=32, width=48, frames=9, steps=2, first_frames=first))
    assert calls[-1]["pipeline"] == "SkyReelsV2DiffusionForcingImageToVideoPipeline"
    assert np.asarray(calls[-1]["image"]).mean() == 90 and clip.frames.shape == (9, 32, 48, 3)


def test_the_estimate_counts_one_generation_per_long_shot(df):
    plan = make_plan([120], width=48, height=32)  # 5 s: 121 native frames at 24 fps, windows of 9
    assert estimate(plan, model(df)).generations == 1
