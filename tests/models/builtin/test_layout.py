"""Layouts as the U-Net sees them: discs where the world puts its objects, ids, and paths anchored to given frames."""

from __future__ import annotations

import numpy as np
import torch

from storyreel import world
from storyreel.models.builtin import layout as L

H, W, T, DS = 48, 80, 16, 4
RIGHT = world.Scene((world.Thing("red", "star", "right"),), "night sky")


def _placed(scene: world.Scene, seed: int = 0) -> world.Layout:
    return world.random_layout(scene, np.random.default_rng(seed), W / H, world.BOLD)


def test_discs_sit_on_the_object_and_follow_its_motion():
    placed = _placed(RIGHT)
    tracks = L.object_tracks(RIGHT, placed, H, W, T)
    assert np.all(np.diff(tracks[0, :, 0]) > 0)  # moving right
    assert np.isnan(tracks[1]).all()  # the empty second slot
    lay = L.layout_input(RIGHT, placed, H, W, T)
    d, coords = (m[0].numpy() for m in lay.maps(H // DS, W // DS))
    assert d.shape == (L.SLOTS, T, H // DS, W // DS) and d[1].max() == 0.0 and coords.shape == (L.SLOTS, 2, T, H // DS, W // DS)
    for f in (0, T - 1):
        ii, jj = np.mgrid[: H // DS, : W // DS]
        wsum = d[0, f].sum()
        x, y = ((jj + 0.5) * d[0, f]).sum() / wsum * DS / H, ((ii + 0.5) * d[0, f]).sum() / wsum * DS / H
        assert abs(x - tracks[0, f, 0]) < DS / H and abs(y - tracks[0, f, 1]) < DS / H
        area = d[0, f].sum() * (DS / H) ** 2
        assert abs(area - np.pi * tracks[0, f, 2] ** 2) < 0.25 * np.pi * tracks[0, f, 2] ** 2
        # the object's own coordinates: about 0 at its centre, about -1 / +1 a radius to its left / right
        cx, cy, r = tracks[0, f] / (DS / H)  # in cells
        i, j = int(cy), int(cx)
        assert abs(coords[0, 0, f, i, j] - ((j + 0.5) - cx) / r) < 1e-4
        assert abs(coords[0, 1, f, i, j] - ((i + 0.5) - cy) / r) < 1e-4
    assert np.abs(coords).max() <= 1.5 + 1e-6 and coords[1].max() == 0.0
    ids = L.scene_ids(RIGHT)
    assert ids.tolist() == [[list(world.COLOURS).index("red"), list(world.SHAPES).index("star")], [L.NO_COLOUR, L.NO_SHAPE]]


def test_locate_finds_a_rendered_object_and_misses_an_absent_colour():
    placed = _placed(RIGHT, seed=3)
    frame = world.render(RIGHT, placed, H, W, 1)[0]
    x, y, r = L.locate(frame, "red")
    tx, ty, tr = L.object_tracks(RIGHT, placed, H, W, 1)[0, 0]
    assert abs(x - tx) < 0.05 and abs(y - ty) < 0.05 and 0.5 * tr < r < 1.2 * tr
    assert L.locate(frame, "green") is None


def test_paths_are_anchored_to_given_first_and_last_frames():
    placed = _placed(RIGHT, seed=1)
    tracks = L.object_tracks(RIGHT, placed, H, W, T)
    elsewhere = world.Layout(((0.3, 0.7),), placed.sizes, placed.texture_seed, placed.speed, placed.travel)
    given = world.render(RIGHT, elsewhere, H, W, 1)[0]
    truth = L.object_tracks(RIGHT, elsewhere, H, W, 1)[0, 0]
    start = L.anchored_tracks(tracks, RIGHT, given, None)
    assert np.abs(start[0, 0, :2] - truth[:2]).max() < 0.05
    assert np.allclose(np.diff(start[0, :, 0]), np.diff(tracks[0, :, 0]))  # the same motion, shifted
    both = L.anchored_tracks(tracks, RIGHT, given, given)
    assert np.abs(both[0, -1, :2] - truth[:2]).max() < 0.05  # connect: it ends where the last frame shows it


def test_unnamed_and_select_drop_ids_and_whole_layouts():
    tracks = torch.rand(3, L.SLOTS, 2, 3) * 0.3 + 0.2
    ids = torch.zeros(3, L.SLOTS, 2, dtype=torch.long)
    lay = L.LayoutInput(tracks, ids)
    un = lay.unnamed(torch.tensor([True, False, False]))
    assert un.ids[0].tolist() == [[L.NO_COLOUR, L.NO_SHAPE]] * L.SLOTS and un.ids[1].eq(0).all()
    assert torch.equal(un.tracks, tracks)
    kept = lay.select(torch.tensor([False, True, True]))
    assert torch.isnan(kept.tracks[0]).all() and torch.equal(kept.tracks[1:], tracks[1:])
    assert kept.ids[0].tolist() == [[L.NO_COLOUR, L.NO_SHAPE]] * L.SLOTS
    discs, coords = kept.maps(6, 10)
    assert discs[0].max() == 0 and coords[0].abs().max() == 0 and discs[1].max() > 0.5
