"""The pixel probe: per-pixel labels from the renderer, and the shipped probe reads rendered videos."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from storyreel.eval import probe as probe_mod
from storyreel.eval.evaluate import heldout_set, read
from storyreel import world


def test_labels_mark_each_object_with_its_colour_and_shape():
    rng = np.random.default_rng(5)
    x, y = probe_mod.labelled_batch(rng, 3, 48, 80, frames=2)
    assert x.shape == (6, 3, 48, 80) and y["colour"].shape == (6, 48, 80)
    on = y["colour"] > 0
    assert 0.005 < float(on.float().mean()) < 0.5  # objects cover some, not most, of the frame
    assert bool(((y["shape"] >= 0) == on).all())  # shape is labelled exactly where an object is
    assert bool(((torch.from_numpy(y["objects"]) >= 0) == on).all())


def test_object_crops_are_labelled_with_their_objects_shape():
    rng = np.random.default_rng(6)
    x, y = probe_mod.labelled_batch(rng, 6, 48, 80, frames=2)
    frames = probe_mod._to_uint8(x)
    crops, shapes = probe_mod.object_crops(frames, y)
    assert crops.shape[1:] == (24, 24, 3) and len(crops) == len(shapes) > 0
    # a region grown by a pixel takes in background: its label must still be the object's
    _, jittered = probe_mod.object_crops(frames, y, np.random.default_rng(0))
    assert (jittered >= 0).all() and (shapes >= 0).all()


def test_a_crop_is_centred_on_its_object_and_filled_by_it():
    frame = np.zeros((48, 80, 3), np.uint8)
    region = np.zeros((48, 80), bool)
    region[10:20, 50:60] = True
    frame[region] = 255
    crop = probe_mod.crop_object(frame, region)
    assert crop[12, 12].min() == 255 and crop[0, 0].max() == 0  # object in the middle, background at the corner
    white = crop[..., 0] > 127
    assert 0.4 < white.mean() < 0.8  # the object fills the crop the same way whatever its size


def test_masks_follow_the_object():
    scene = world.Scene((world.Thing("red", "square", "right"),), "night sky", "static")
    layout = world.random_layout(scene, np.random.default_rng(0), 80 / 48)
    masks = np.full((8, 48, 80), -1, np.int8)
    video = world.render(scene, layout, 48, 80, 8, masks=masks)
    xs = [np.nonzero(m == 0)[1].mean() for m in masks]
    assert xs[-1] > xs[0] + 5  # it moves right
    red = video[0][masks[0] == 0].mean(0)
    assert red[0] > 150 and red[2] < 100  # the masked pixels are the red square
    assert np.array_equal(video, world.render(scene, layout, 48, 80, 8))  # masks do not change the pixels


@pytest.fixture(scope="module")
def shipped():
    if not probe_mod.PROBE_PATH.exists():
        pytest.fail(f"{probe_mod.PROBE_PATH} is missing: train it with `storyreel train builtin --stage probe`")
    return probe_mod.load_probe()


def test_shipped_probe_reads_the_renderers_own_videos(shipped):
    items = heldout_set(12, 6)
    right = {"colour": 0, "shape": 0, "motion": 0, "setting": 0}
    n_obj = 0
    for i, (scene, _) in enumerate(items):
        video = world.render(scene, world.random_layout(scene, np.random.default_rng(i), 80 / 48), 48, 80, 16)
        seen = read(shipped, video, len(scene.things))
        right["setting"] += seen.setting == scene.setting
        truth = sorted((t.colour, t.shape, t.motion) for t in scene.things)
        for want, got in zip(truth, sorted(seen.objects)):
            n_obj += 1
            right["colour"] += want[0] == got[0]
            right["shape"] += want[1] == got[1]
            right["motion"] += want[2] == got[2]
    assert right["setting"] / len(items) >= 0.9
    for attr in ("colour", "shape", "motion"):
        assert right[attr] / n_obj >= 0.85, (attr, right[attr], n_obj)


def test_probe_reads_large_frames_at_its_own_scale(shipped):
    scene = world.Scene((world.Thing("yellow", "star", "still"),), "day sky", "static")
    layout = world.random_layout(scene, np.random.default_rng(3), 80 / 48)
    big = world.render(scene, layout, 144, 240, 4)  # 3x the native size, as a take at output size would be
    seen = read(shipped, big, 1)
    assert seen.setting == "day sky"
    assert seen.objects[0][:2] == ("yellow", "star")


def test_an_empty_scene_reads_as_no_object(shipped):
    scene = world.Scene((world.Thing("red", "circle", "still"),), "sunset", "static")
    layout = world.Layout(((-5.0, -5.0),), (0.2,), 7)  # placed far off screen
    seen = read(shipped, world.render(scene, layout, 48, 80, 8), 1)
    assert seen.objects == [("none", "none", "none")]
    assert seen.setting == "sunset"
