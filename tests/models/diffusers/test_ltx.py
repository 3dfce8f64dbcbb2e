"""LTX-Video 0.9.8's long shots offline on the tiny LTX pipeline: a shot longer than one generation is one call of
LTXI2VLongMultiPromptPipeline over overlapping windows, a " | " prompt one part per stretch of windows."""

from __future__ import annotations

import numpy as np
import pytest

from storyreel.models import chain
from storyreel.models.base import GenerationRequest
from storyreel.models.diffusers import MODELS, DiffusersOptions, LTXModel, open_model
from tiny_pipelines import build_one

pytest.importorskip("diffusers")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_one(tmp_path_factory, "ltx")


@pytest.fixture()
def calls(monkeypatch):
    import diffusers

    seen = []
    for name in set(LTXModel.pipeline_classes.values()):
        cls = getattr(diffusers, name)

        def spy(self, *args, _real=cls.__call__, **kwargs):
            seen.append({"pipeline": type(self).__name__, **kwargs})
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__call__", spy)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return seen


def test_the_098_distilled_row_declares_long_shots_and_8_steps():
    spec = MODELS["ltx-video-0.9.8-distilled"]
    assert (spec.steps, spec.guidance, spec.temporal_tile) == (8, 1.0, 80)
    assert "long" in open_model("ltx-video-0.9.8-distilled").capabilities
    assert "long" not in open_model("ltx-video").capabilities


def test_a_long_shot_is_one_multi_prompt_call_with_a_prompt_per_stretch_of_windows(tiny, calls):
    m = open_model(str(tiny), DiffusersOptions(size=(32, 64), frames=17, steps=2, temporal_tile=16))
    first = np.full((1, 32, 64, 3), 70, np.uint8)
    req = GenerationRequest("a star rises | the star over the sea | the night sky", height=32, width=64, frames=17,
                            steps=2, first_frames=first)
    clip = chain.generate_long(m, req, n_frames=49)
    (call,) = calls
    assert call["pipeline"] == "LTXI2VLongMultiPromptPipeline" and call["num_frames"] == 49
    assert (call["temporal_tile_size"], call["temporal_overlap"]) == (16, 8)
    assert [s["text"] for s in call["prompt_segments"]] == ["a star rises", "the star over the sea", "the night sky"]
    assert call["prompt_segments"][0]["start_window"] == 0 and call["prompt_segments"][-1]["end_window"] == 5
    assert np.asarray(call["cond_image"]).mean() == 70
    assert clip.frames.shape == (49, 32, 64, 3) and clip.info["generations"] == 1
