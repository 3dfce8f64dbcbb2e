"""Scene layouts as the U-Net sees them: one soft disc per object per frame, and what each object is.

The built-in model v2 is layout-guided, as LVD and VideoDirectorGPT are: a
planner turns the prompt into a scene (planner.py), the scene gets positions
and a path for each object (world.random_layout, the training world's own
sampler, seeded by the request's seed), and the denoiser draws the clip with
each object's disc per frame and its colour and shape ids as extra input. The
disc says where an object is and how big, never its outline: the shape is still
drawn by the network, from the ids, at the place the disc gives. Motion is then
a fact of the input instead of something a 3 M-parameter net must infer from a
sentence, and two objects bind their own colour and shape because each disc
carries its own ids.

A given first or last frame (image-to-video, extension, connect) fixes where the
objects are: `locate` finds each object by its colour there, and the path starts
(or ends, or runs between) those places.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ... import world

SLOTS = 2  # objects per scene the layout can carry (the world has one or two)
NO_COLOUR, NO_SHAPE = len(world.COLOURS), len(world.SHAPES)  # ids of an empty slot
_COLOUR_IDS = {c: i for i, c in enumerate(world.COLOURS)}
_SHAPE_IDS = {s: i for i, s in enumerate(world.SHAPES)}


@dataclass
class LayoutInput:
    """The denoiser's layout input: discs (B, SLOTS, T, h, w) in 0..1 and ids (B, SLOTS, 2) colour and shape."""

    discs: torch.Tensor
    ids: torch.Tensor

    @staticmethod
    def empty(b: int, frames: int, h: int, w: int) -> "LayoutInput":
        """No layout: what a clip trained with its layout dropped sees (restyle, or a prompt with no object)."""
        ids = torch.tensor([NO_COLOUR, NO_SHAPE]).expand(b, SLOTS, 2).clone()
        return LayoutInput(torch.zeros(b, SLOTS, frames, h, w), ids)

    def select(self, keep: torch.Tensor) -> "LayoutInput":
        """This layout where keep (B,) is True, the empty layout elsewhere."""
        none = LayoutInput.empty(*self.discs.shape[:1], *self.discs.shape[2:])
        k = keep.view(-1, 1, 1, 1, 1)
        return LayoutInput(torch.where(k, self.discs, none.discs.to(self.discs)),
                           torch.where(keep.view(-1, 1, 1), self.ids, none.ids.to(self.ids)))

    def unnamed(self, where: torch.Tensor | None = None) -> "LayoutInput":
        """The same discs with the empty slot's ids (where (B,) is True, or everywhere): what guidance's
        unconditional branch sees, and what training shows with the caption dropped."""
        none = torch.tensor([NO_COLOUR, NO_SHAPE], device=self.ids.device).expand_as(self.ids)
        if where is None:
            return LayoutInput(self.discs, none.clone())
        return LayoutInput(self.discs, torch.where(where.view(-1, 1, 1), none, self.ids))

    def to(self, device) -> "LayoutInput":
        return LayoutInput(self.discs.to(device), self.ids.to(device))


def object_tracks(scene: world.Scene, layout: world.Layout, height: int, width: int, frames: int) -> np.ndarray:
    """(SLOTS, T, 3) screen x, y and radius of each object per frame, in short-side units; NaN for an empty slot."""
    out = np.full((SLOTS, frames, 3), np.nan)
    for f, objs in enumerate(world.screen_objects(scene, layout, height, width, frames)):
        for i, x, y, r in objs:
            if i < SLOTS:
                out[i, f] = (x, y, r)
    return out


def discs(tracks: np.ndarray, height: int, width: int, downsample: int) -> np.ndarray:
    """(SLOTS, T, h, w) float32 soft discs on the latent grid, one latent cell of edge, from object_tracks."""
    h, w = height // downsample, width // downsample
    cell = downsample / min(height, width)  # short-side units per latent cell
    ys, xs = (np.arange(h) + 0.5) * cell, (np.arange(w) + 0.5) * cell
    x, y, r = (tracks[..., k][..., None, None] for k in range(3))  # (SLOTS, T, 1, 1)
    dist = np.sqrt((xs[None, None, None, :] - x) ** 2 + (ys[None, None, :, None] - y) ** 2)
    d = np.clip((r - dist) / cell + 0.5, 0.0, 1.0)
    return np.nan_to_num(d, nan=0.0).astype(np.float32)


def scene_ids(scene: world.Scene) -> np.ndarray:
    """(SLOTS, 2) int64 colour and shape ids of the scene's objects; empty slots get the none ids."""
    ids = np.array([[NO_COLOUR, NO_SHAPE]] * SLOTS, np.int64)
    for i, thing in enumerate(scene.things[:SLOTS]):
        ids[i] = (_COLOUR_IDS[thing.colour], _SHAPE_IDS[thing.shape])
    return ids


def layout_input(scene: world.Scene, layout: world.Layout, height: int, width: int, frames: int,
                 downsample: int) -> LayoutInput:
    """One scene's layout input, batch of one."""
    d = discs(object_tracks(scene, layout, height, width, frames), height, width, downsample)
    return LayoutInput(torch.from_numpy(d)[None], torch.from_numpy(scene_ids(scene))[None])


def locate(frame: np.ndarray, colour: str) -> tuple[float, float, float] | None:
    """Where an object of `colour` is in an (H, W, 3) uint8 frame: (x, y, radius) in short-side units, or None.

    The pixels nearest that colour of the world's palette (and near it in RGB)
    are the object; its centroid and the radius of a disc of their area say
    where and how big. A colour that covers less than a few pixels is not there.
    """
    height, width = frame.shape[:2]
    px = frame.reshape(-1, 3).astype(np.float32)
    palette = np.array(list(world.COLOURS.values()), np.float32)  # (8, 3)
    dist = np.linalg.norm(px[:, None] - palette[None], axis=-1)  # (H*W, 8)
    k = _COLOUR_IDS[colour]
    hit = (dist.argmin(1) == k) & (dist[:, k] < 70.0)
    if hit.sum() < max(4, height * width // 400):
        return None
    idx = np.flatnonzero(hit)
    ii, jj = idx // width, idx % width
    short = min(height, width)
    return (float(jj.mean() + 0.5) / short, float(ii.mean() + 0.5) / short, float(np.sqrt(hit.sum() / np.pi)) / short)


def anchored_tracks(tracks: np.ndarray, scene: world.Scene, first: np.ndarray | None,
                    last: np.ndarray | None) -> np.ndarray:
    """Move each object's path so that it starts where `first` shows it and ends where `last` shows it.

    With only a first (or last) frame, the path keeps its shape and is shifted to
    start (or end) at the located place; with both, the shift runs linearly from
    one to the other (connect). An object not found keeps its planned path.
    """
    out = tracks.copy()
    frames = tracks.shape[1]
    ramp = np.linspace(0.0, 1.0, frames)[:, None]  # (T, 1)
    for i, thing in enumerate(scene.things[:SLOTS]):
        a = locate(first, thing.colour) if first is not None else None
        b = locate(last, thing.colour) if last is not None else None
        start = np.zeros(2) if a is None else np.array(a[:2]) - tracks[i, 0, :2]
        end = np.zeros(2) if b is None else np.array(b[:2]) - tracks[i, -1, :2]
        if a is not None and b is None:
            end = start
        if b is not None and a is None:
            start = end
        out[i, :, :2] = tracks[i, :, :2] + (1 - ramp) * start + ramp * end
    return out
