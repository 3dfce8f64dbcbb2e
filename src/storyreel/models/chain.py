"""Clips longer than one generation, loops and connections, for any backend with conditioning.

A backend that declares "long" (diffusion forcing: SkyReels-V2 DF) makes
a shot of any length in one generation. Otherwise a shot of four seconds
from a model that makes two at a time is made by extension: each next generation is conditioned on the last `overlap` frames of
the one before, so motion carries on instead of restarting. Backends without
extension are refused here rather than silently looped.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..errors import StoryreelError
from .base import Clip, GenerationRequest, VideoModel


def generate_long(model: VideoModel, req: GenerationRequest, n_frames: int, overlap: int = 4, progress=None) -> Clip:
    """Generate `n_frames` native frames (>= one generation) by chaining extensions.

    `req.frames` is the size of one generation; `req.first_frames` (if any)
    conditions the first one. The chain's seeds are derived from req.seed.
    """
    native = req.frames
    if n_frames <= native:
        clip = model.generate(req, progress=progress)
        return Clip(clip.frames[:n_frames], clip.fps, req, {**clip.info, "generations": 1})
    if "long" in model.capabilities:  # diffusion forcing: the whole shot is one coherent generation
        whole = replace(req, frames=model.native.valid_frames(n_frames))
        clip = model.generate(whole, progress=progress)
        return Clip(clip.frames[:n_frames], clip.fps, whole, {**clip.info, "generations": 1, "long": True})
    if "extend" not in model.capabilities:
        raise StoryreelError(
            f"model {model.name} cannot extend clips; shots longer than {native} frames need a backend with extension"
        )
    overlap = max(1, min(overlap, native - 2))
    pieces, generations = [], 0
    clip = model.generate(req, progress=progress)
    pieces.append(clip.frames)
    generations += 1
    have = len(clip.frames)
    windows = [[0, have]]  # the frames each generation added (edit.anchor grades them back to the first's colours)
    while have < n_frames:
        prev = pieces[-1]
        k = min(overlap, len(prev))
        nxt = replace(req, seed=req.seed + 7919 * (generations), first_frames=prev[-k:], last_frames=None)
        clip = model.generate(nxt, progress=progress)
        pieces.append(clip.frames[k:])
        windows.append([have, min(have + len(clip.frames) - k, n_frames)])
        have += len(clip.frames) - k
        generations += 1
    frames = np.concatenate(pieces)[:n_frames]
    windows = [w for w in windows if w[0] < n_frames]
    return Clip(frames, clip.fps, req, {**clip.info, "generations": generations, "overlap": overlap,
                                        "windows": windows})


def generations_for(n_frames: int, native: int, overlap: int = 4, long: bool = False) -> list[int]:
    """Frames of each generation `generate_long` makes for `n_frames` frames, `native` per generation
    (long: the backend makes any length at once)."""
    if n_frames <= native:
        return [native]
    if long:
        return [n_frames]
    k = max(1, min(overlap, native - 2))
    pieces, have = [native], native
    while have < n_frames:
        pieces.append(native)
        have += native - k
    return pieces


def connect(model: VideoModel, req: GenerationRequest, first: np.ndarray, last: np.ndarray) -> Clip:
    """Fill the frames between a given first frame and last frame (shot-to-shot bridges)."""
    if "connect" not in model.capabilities:
        raise StoryreelError(f"model {model.name} cannot connect two clips")
    return model.generate(replace(req, first_frames=first[None], last_frames=last[None]))


def loop(model: VideoModel, req: GenerationRequest) -> Clip:
    """A clip that loops seamlessly: generate, then connect its last frame back to its first.

    Played on repeat, frame n-1 is followed by frame 0 with no jump, because the
    bridge lands exactly one step before the first frame.
    """
    a = model.generate(req)
    bridge = connect(model, replace(req, seed=req.seed + 1), a.frames[-1], a.frames[0])
    frames = np.concatenate([a.frames, bridge.frames[1:-1]])
    return Clip(frames, a.fps, req, {**a.info, "loop": True, "bridge_frames": len(bridge.frames) - 2})
