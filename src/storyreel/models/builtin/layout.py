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
    """The denoiser's layout input: each object's track (B, SLOTS, T, 3) of screen x, y and radius in short-side
    units (NaN for an empty slot) and its ids (B, SLOTS, 2), colour and shape. `maps` draws it on a latent grid."""

    tracks: torch.Tensor
    ids: torch.Tensor

    @staticmethod
    def empty(b: int, frames: int) -> "LayoutInput":
        """No layout: what a clip trained with its layout dropped sees (restyle, or a prompt with no object)."""
        ids = torch.tensor([NO_COLOUR, NO_SHAPE]).expand(b, SLOTS, 2).clone()
        return LayoutInput(torch.full((b, SLOTS, frames, 3), float("nan")), ids)

    def select(self, keep: torch.Tensor) -> "LayoutInput":
        """This layout where keep (B,) is True, the empty layout elsewhere."""
        none = LayoutInput.empty(self.tracks.shape[0], self.tracks.shape[2])
        return LayoutInput(torch.where(keep.view(-1, 1, 1, 1), self.tracks, none.tracks.to(self.tracks)),
                           torch.where(keep.view(-1, 1, 1), self.ids, none.ids.to(self.ids)))

    def unnamed(self, where: torch.Tensor | None = None) -> "LayoutInput":
        """The same tracks with the empty slot's ids (where (B,) is True, or everywhere): what guidance's
        unconditional branch sees, and what training shows with the caption dropped."""
        none = torch.tensor([NO_COLOUR, NO_SHAPE], device=self.ids.device).expand_as(self.ids)
        if where is None:
            return LayoutInput(self.tracks, none.clone())
        return LayoutInput(self.tracks, torch.where(where.view(-1, 1, 1), none, self.ids))

    def to(self, device) -> "LayoutInput":
        return LayoutInput(self.tracks.to(device), self.ids.to(device))

    def maps(self, h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
        """On an h x w latent grid: discs (B, SLOTS, T, h, w) in 0..1 with one cell of soft edge, and each
        object's own coordinates (B, SLOTS, 2, T, h, w): offset from its centre over its radius, out to 1.5
        radii (beyond, 0). The coordinates are the same for every shape; what a star is in them the net learns."""
        cell = 1.0 / min(h, w)  # short-side units per latent cell
        ys = (torch.arange(h, device=self.tracks.device) + 0.5) * cell
        xs = (torch.arange(w, device=self.tracks.device) + 0.5) * cell
        valid = ~torch.isnan(self.tracks[..., 0])  # (B, K, T)
        tr = torch.nan_to_num(self.tracks.float(), nan=0.0)
        x, y, r = (tr[..., k, None, None] for k in range(3))  # (B, K, T, 1, 1)
        r = r.clamp(min=1e-3)
        dx, dy = xs.view(1, 1, 1, 1, w) - x, ys.view(1, 1, 1, h, 1) - y  # (B, K, T, 1, w), (B, K, T, h, 1)
        dist = torch.sqrt(dx**2 + dy**2)  # (B, K, T, h, w)
        v = valid[..., None, None].float()
        disc = ((r - dist) / cell + 0.5).clamp(0, 1) * v
        near = ((1.5 * r - dist) / cell + 0.5).clamp(0, 1) * v
        coords = torch.stack([dx.expand_as(dist) / r, dy.expand_as(dist) / r], 2) * near[:, :, None]
        return disc, coords


def object_tracks(scene: world.Scene, layout: world.Layout, height: int, width: int, frames: int) -> np.ndarray:
    """(SLOTS, T, 3) screen x, y and radius of each object per frame, in short-side units; NaN for an empty slot."""
    out = np.full((SLOTS, frames, 3), np.nan)
    for f, objs in enumerate(world.screen_objects(scene, layout, height, width, frames)):
        for i, x, y, r in objs:
            if i < SLOTS:
                out[i, f] = (x, y, r)
    return out


def scene_ids(scene: world.Scene) -> np.ndarray:
    """(SLOTS, 2) int64 colour and shape ids of the scene's objects; empty slots get the none ids."""
    ids = np.array([[NO_COLOUR, NO_SHAPE]] * SLOTS, np.int64)
    for i, thing in enumerate(scene.things[:SLOTS]):
        ids[i] = (_COLOUR_IDS[thing.colour], _SHAPE_IDS[thing.shape])
    return ids


def layout_input(scene: world.Scene, layout: world.Layout, height: int, width: int, frames: int) -> LayoutInput:
    """One scene's layout input, batch of one."""
    tracks = object_tracks(scene, layout, height, width, frames)
    return LayoutInput(torch.from_numpy(tracks).float()[None], torch.from_numpy(scene_ids(scene))[None])


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
                    last: np.ndarray | None, first_at: int = 0, last_at: int = -1) -> np.ndarray:
    """Move each object's path so that at frame `first_at` it is where `first` shows it, and at `last_at`
    where `last` shows it (the given frames' places in the generation).

    With only a first (or last) frame, the path keeps its shape and is shifted to
    go through the located place, and its radius is scaled to the located size
    (an object seen close up in a zoomed-in hand-off stays that big rather than
    snapping to the planned size); with both, shift and scale run linearly from
    one to the other (connect). An object not found keeps its planned path.
    """
    out = tracks.copy()
    frames = tracks.shape[1]
    ramp = np.linspace(0.0, 1.0, frames)[:, None]  # (T, 1)
    for i, thing in enumerate(scene.things[:SLOTS]):
        a = locate(first, thing.colour) if first is not None else None
        b = locate(last, thing.colour) if last is not None else None
        start = np.zeros(2) if a is None else np.array(a[:2]) - tracks[i, first_at, :2]
        end = np.zeros(2) if b is None else np.array(b[:2]) - tracks[i, last_at, :2]
        grow_a = 1.0 if a is None else a[2] / tracks[i, first_at, 2]
        grow_b = 1.0 if b is None else b[2] / tracks[i, last_at, 2]
        if a is not None and b is None:
            end, grow_b = start, grow_a
        if b is not None and a is None:
            start, grow_a = end, grow_b
        out[i, :, :2] = tracks[i, :, :2] + (1 - ramp) * start + ramp * end
        out[i, :, 2] = tracks[i, :, 2] * ((1 - ramp[:, 0]) * grow_a + ramp[:, 0] * grow_b)
    return out
