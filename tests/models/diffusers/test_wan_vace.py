"""Wan VACE offline on a tiny saved pipeline: a character's image reaches it as its reference image, first and
last frames are kept by VACE's mask, the grid comes from the configs."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fakes import make_plan
from storyreel.models.base import GenerationRequest
from storyreel.models.diffusers import DiffusersOptions, WanVACEModel, open_model
from storyreel.render.cache import TakeCache
from storyreel.render.takes import ShotSettings, run_in_order
from tiny_pipelines import build_one

pytest.importorskip("diffusers")


@pytest.fixture(scope="module")
def vace(tmp_path_factory):
    return build_one(tmp_path_factory, "wan-vace")


@pytest.fixture()
def calls(monkeypatch):
    """Every WanVACEPipeline call's keyword arguments."""
    import diffusers

    seen = []
    real = diffusers.WanVACEPipeline.__call__

    def spy(self, *args, **kwargs):
        seen.append(kwargs)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(diffusers.WanVACEPipeline, "__call__", spy)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return seen


def model(path):
    return open_model(str(path), DiffusersOptions(size=(32, 48), frames=9, steps=2))


def test_the_grid_and_capabilities_come_from_the_saved_pipeline(vace):
    m = model(vace)
    assert isinstance(m, WanVACEModel) and (m.native.size_multiple, m.native.frame_rule) == (16, (4, 1))
    assert m.capabilities == {"t2v", "i2v", "extend", "connect", "reference"}


def test_a_characters_image_reaches_vace_as_its_reference_image(vace, calls, tmp_path):
    face = np.zeros((20, 10, 3), np.uint8)
    face[:, :, 0] = 200  # a red portrait, taller than the frame is
    Image.fromarray(face).save(tmp_path / "hero.png")
    plan = make_plan([24], width=48, height=32, characters={"hero": {"image": str(tmp_path / "hero.png")}},
                     shot_characters=[["hero"]])
    (res,) = run_in_order(plan, model(vace), TakeCache(tmp_path / "cache"), ShotSettings())
    (ref,) = calls[0]["reference_images"]
    got = np.asarray(ref)
    assert got.shape == (32, 48, 3)  # letterboxed onto the frame
    assert (got[16, 24] == [200, 0, 0]).all() and (got[16, 2] == 255).all()  # the portrait, white bars beside it
    assert res.clip.info["reference_image"] is True and res.clip.frames.shape[1:] == (32, 48, 3)


def test_first_and_last_frames_are_kept_by_the_mask(vace, calls):
    first = np.full((1, 32, 48, 3), 10, np.uint8)
    last = np.full((1, 32, 48, 3), 240, np.uint8)
    clip = model(vace).generate(GenerationRequest("a star", height=32, width=48, frames=9, steps=2,
                                                  first_frames=first, last_frames=last))
    call = calls[-1]
    masks = [np.asarray(m) for m in call["mask"]]
    assert [int(m.max()) for m in masks] == [0] + [255] * 7 + [0]
    assert (np.asarray(call["video"][0]) == 10).all() and (np.asarray(call["video"][-1]) == 240).all()
    assert (np.asarray(call["video"][4]) == 127).all()
    assert clip.frames.shape == (9, 32, 48, 3) and clip.info["mode"] == "connect"
