"""The procedural world: deterministic, captioned, every attribute visible in the pixels."""

import numpy as np
import pytest

from storyreel import world


def test_render_is_deterministic_for_a_seed():
    a = world.sample(7, 48, 80, 16)
    b = world.sample(7, 48, 80, 16)
    assert a.caption == b.caption
    assert np.array_equal(a.video, b.video)
    assert not np.array_equal(a.video, world.sample(8, 48, 80, 16).video)


@pytest.mark.parametrize("hw", [(48, 80), (48, 48), (80, 48), (72, 128)])
def test_any_size_and_frame_count(hw):
    s = world.sample(3, *hw, frames=9)
    assert s.video.shape == (9, *hw, 3) and s.video.dtype == np.uint8


def test_captions_vary_in_phrasing_but_not_in_meaning():
    scene = world.Scene((world.Thing("red", "star", "right"),), "night sky", "static")
    captions = {world.caption(scene, seed) for seed in range(40)}
    assert len(captions) > 10
    for c in captions:
        assert any(w in c for w in world.COLOUR_WORDS["red"])
        assert any(w in c for w in world.SHAPE_WORDS["star"])
    assert world.caption(scene, canonical=True) == "a red star moves right in the night sky"


def test_object_moves_in_the_captioned_direction():
    scene = world.Scene((world.Thing("white", "square", "right"),), "night sky", "static")
    layout = world.Layout(((0.4, 0.5),), (0.2,), 1)
    v = world.render(scene, layout, 48, 80, 16).astype(int)
    white = (v.min(-1) > 200)  # (T, H, W): the square is the only large white area
    xs = [np.nonzero(f)[1].mean() for f in white]
    assert xs[-1] - xs[0] > 15  # pixels to the right


def test_heldout_combinations_never_sampled_for_training():
    rng = np.random.default_rng(0)
    for _ in range(300):
        scene = world.random_scene(rng, heldout=False)
        assert not any(world.is_heldout(t, scene.setting) for t in scene.things)
    held = [world.random_scene(rng, heldout=True) for _ in range(20)]
    assert all(any(world.is_heldout(t, s.setting) for t in s.things) for s in held)


def test_layout_keeps_objects_on_screen():
    rng = np.random.default_rng(1)
    inside, total = 0, 0
    for _ in range(100):
        scene = world.random_scene(rng, heldout=None)
        layout = world.random_layout(scene, rng, 80 / 48)
        for frame in world.screen_objects(scene, layout, 48, 80, 16):
            for _, x, y, r in frame:
                inside += (0 < x < 80 / 48) and (0 < y < 1)
                total += 1
    # a zoom-in on an object that also travels cannot always stay in frame; nearly always it does
    assert inside / total > 0.98
