"""The built-in text-to-video model behind the VideoModel interface.

Text -> MiniLM embeddings (and, for the layout-guided U-Net, the planner's
scene placed by the seed) -> guided rectified-flow sampling of the denoiser in
the frame autoencoder's latent space -> decoded native frames; `upsample` is
the 4x super-resolution stage the pipeline runs after. Conditioning frames
(first, last, or a whole video to restyle) are encoded with the same
autoencoder and given to the denoiser through its frame mask; where the
generation jumps away from them (they show another scene than the prompt),
it dissolves from them instead (handoff.py).
"""

from __future__ import annotations

import time
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from ... import world
from ...errors import StoryreelError
from ...eval.adherence import probe_adherence
from ..base import Clip, GenerationRequest, VideoModelBase
from . import text as text_mod
from .flow import Conditioning, sample
from .deflicker import deflicker
from .temporal_smooth import temporal_smooth
from .handoff import given_weights, join_given
from .layout import LayoutInput, anchored_tracks, object_tracks, scene_ids
from .planner import plan_scene
from .spec import BUILTIN_CAPABILITIES, NATIVE, NATIVE_SIZES
from .upsampler import upsample
from .weights import WEIGHTS_DIR, WeightsMissing, load_autoencoder, load_denoiser, load_upsampler, read_config, weights_identity


def native_size_for(width: int, height: int) -> tuple[int, int]:
    """The trained (height, width) closest in aspect ratio to an output size."""
    aspect = width / height
    best = min(NATIVE_SIZES.values(), key=lambda hw: abs(np.log((hw[1] / hw[0]) / aspect)))
    return best


# Part of the cache key with the weights' hash: bump it when generate() draws differently from the same
# weights, so old takes are not reused (2: the deflicker pass; 3: the flow-guided temporal smoothing).
OUTPUT_VERSION = 3


class BuiltinModel(VideoModelBase):
    """storyreel's own small text-to-video model: a layout-guided U-Net (v2) or a spacetime-patch DiT (v1)."""

    name = "builtin"
    capabilities = BUILTIN_CAPABILITIES
    native = NATIVE
    default_guidance = 4.0

    def __init__(self, weights_dir: Path = WEIGHTS_DIR, threads: int | None = None, post: bool = True) -> None:
        """post=False returns the decoder's frames without the temporal smoothing and deflicker passes
        (bench/temporal_smooth.py measures the passes on them)."""
        self.weights_dir = Path(weights_dir)
        self.threads = threads
        self.post = post

    @cached_property
    def _components(self):
        try:
            return load_autoencoder(self.weights_dir), load_denoiser(self.weights_dir)
        except WeightsMissing as e:
            raise StoryreelError(str(e)) from None

    @cached_property
    def default_steps(self) -> int:
        """Sampler steps when a request names none: the weights' own `sample_steps` (v2 measured the same
        adherence at 8 as at 12, README), else 12."""
        try:
            return int(read_config(self.weights_dir).get("sample_steps", 12))
        except WeightsMissing as e:
            raise StoryreelError(str(e)) from None

    @property
    def world_style(self) -> world.WorldStyle:
        """The world the weights were trained to draw: the eval renders its reference clips in it, so the
        renderer's ceiling shows the same sizes and speeds as the model's clips (v2's bold objects change a
        frame's mean colour more as they move and grow than v1's classic ones)."""
        return world.BOLD if getattr(self._components[1].cfg, "layout_dim", 0) else world.CLASSIC

    @cached_property
    def _upsampler(self):
        return load_upsampler(self.weights_dir)

    def upsample(self, frames: np.ndarray) -> np.ndarray:
        """The 4x super-resolution stage (upsampler.py) over native frames; the frames as they are where the
        weights have no such stage."""
        if self._upsampler is None:
            return frames
        if self.threads:
            torch.set_num_threads(self.threads)
        return upsample(self._upsampler, frames)

    def size_for(self, width: int, height: int) -> tuple[int, int]:
        """(height, width) to generate for an output of width x height: the trained size nearest in aspect."""
        return native_size_for(width, height)

    def identity(self) -> str:
        # frames without the post passes are other frames: a cache must not hand one kind out for the other
        return f"builtin:{weights_identity(self.weights_dir)}:out{OUTPUT_VERSION}" + ("" if self.post else ":raw")

    def adherence(self, frames: np.ndarray, prompt: str) -> float | None:
        """What the evaluation's pixel probe reads of `prompt` in the frames (it knows the world it was trained on)."""
        return probe_adherence(frames, prompt)

    def reading(self, prompt: str) -> str | None:
        """The layout-guided model's planned scene as a caption in the world's words (what the layout and the
        text encoder get); None for v1, which reads the prompt itself."""
        if not getattr(self._components[1].cfg, "layout_dim", 0):
            return None
        scene = plan_scene(prompt)
        if not scene.things:
            return "no object it knows: no layout, the model draws from the prompt's words alone"
        return world.caption(scene, canonical=True)

    def check_request(self, req: GenerationRequest) -> None:
        """Refuse what the model cannot do, precisely, before any work."""
        m = self.native.size_multiple
        if req.height % m or req.width % m:
            raise StoryreelError(f"builtin model needs height and width divisible by {m}, got {req.width}x{req.height}")
        if req.frames % 2 or req.frames < 2:
            raise StoryreelError(f"builtin model needs an even frame count >= 2, got {req.frames}")
        for name, frames in (("first_frames", req.first_frames), ("last_frames", req.last_frames), ("video", req.video)):
            if frames is not None and frames.shape[1:3] != (req.height, req.width):
                raise StoryreelError(f"{name} are {frames.shape[2]}x{frames.shape[1]}, request is {req.width}x{req.height}")
        if req.video is not None and len(req.video) != req.frames:
            raise StoryreelError(f"video to restyle has {len(req.video)} frames, request asks for {req.frames}")

    @torch.no_grad()
    def generate(self, req: GenerationRequest, progress=None) -> Clip:
        self.check_request(req)
        ae, dit = self._components
        if self.threads:
            torch.set_num_threads(self.threads)
        t0 = time.perf_counter()
        h, w = req.height // ae.cfg.downsample, req.width // ae.cfg.downsample
        gen = torch.Generator().manual_seed(int(req.seed) & 0x7FFFFFFFFFFFFFFF)
        noise = torch.randn(1, ae.cfg.latent, req.frames, h, w, generator=gen)  # (1, C, T, h, w)
        guided = bool(getattr(dit.cfg, "layout_dim", 0))
        scene = plan_scene(req.prompt) if guided else None
        emb = text_mod.encode([self._caption(req.prompt, scene)])
        cond = self._conditioning(ae, req, noise)
        x_start, start_t = None, 1.0
        if req.video is not None:
            x_start = ae.encode_video(torch.from_numpy(np.ascontiguousarray(req.video))[None])
            start_t = float(np.clip(req.strength, 0.0, 1.0))
        layout = self._layout(req, scene) if guided else None
        latents = sample(
            dit, noise, emb.tokens, emb.mask, emb.pooled, cond,
            steps=req.steps or self.default_steps,
            guidance=self.default_guidance if req.guidance is None else req.guidance,
            start_t=start_t, x_start=x_start, callback=progress, layout=layout,
        )
        frames = ae.decode_video(latents)[0].numpy()  # (T, H, W, 3) uint8
        handed, hold = {}, None
        if req.video is None and (req.first_frames is not None or req.last_frames is not None):
            frames, handed = join_given(frames, req.first_frames, req.last_frames, self.native.fps)
            nf, nl = (0 if x is None else len(x) for x in (req.first_frames, req.last_frames))
            hold = given_weights(len(frames), nf, nl, self.native.fps)
        if self.post:  # after the hand-off: its jump test reads the model's own steps
            frames = deflicker(temporal_smooth(frames, hold=hold), hold=hold)
        info = {
            "model": self.name,
            "native_size": [req.width, req.height],
            "frames": req.frames,
            "fps": self.native.fps,
            "seconds": round(time.perf_counter() - t0, 3),
            **req.conditioning_summary(),
            **{k: v for k, v in handed.items() if v},
        }
        return Clip(frames, self.native.fps, req, info)

    @staticmethod
    def _caption(prompt: str, scene) -> str:
        """What the text encoder reads: for the layout-guided model, the planned scene in the world's own
        canonical words, so the text agrees with the layout's ids and is in the phrasing the model was trained
        on (Sora and DALL-E 3 rewrite prompts into their captioner's style for the same reason); the prompt as
        given where nothing was planned."""
        return world.caption(scene, canonical=True) if scene is not None and scene.things else prompt

    @staticmethod
    def _layout(req: GenerationRequest, scene) -> LayoutInput | None:
        """The layout-guided U-Net's input: the planned scene's objects placed by the request's seed, their
        paths anchored to given first and last frames; none for a restyle or a prompt without objects."""
        if req.video is not None or not scene.things:
            return None
        rng = np.random.default_rng([int(req.seed) & 0x7FFFFFFF, 7])
        placed = world.random_layout(scene, rng, req.width / req.height, world.BOLD)
        tracks = object_tracks(scene, placed, req.height, req.width, req.frames)
        if req.first_frames is not None or req.last_frames is not None:
            first = None if req.first_frames is None else req.first_frames[-1]
            last = None if req.last_frames is None else req.last_frames[0]
            # an object the given frames do not show (another scene) keeps the seed's place, and handoff.py
            # dissolves into it; left unguided there, the net drew fragments
            tracks = anchored_tracks(tracks, scene, first, last, first_at=0 if first is None else len(req.first_frames) - 1,
                                     last_at=-1 if last is None else req.frames - len(req.last_frames))
        return LayoutInput(torch.from_numpy(tracks).float()[None], torch.from_numpy(scene_ids(scene))[None])

    def _conditioning(self, ae, req: GenerationRequest, noise: torch.Tensor) -> Conditioning | None:
        if req.first_frames is None and req.last_frames is None:
            return None
        cond = Conditioning.none_like(noise)
        for frames, at_end in ((req.first_frames, False), (req.last_frames, True)):
            if frames is None:
                continue
            k = len(frames)
            if k > req.frames:
                raise StoryreelError(f"{k} conditioning frames do not fit a {req.frames}-frame generation")
            z = ae.encode_video(torch.from_numpy(np.ascontiguousarray(frames))[None])  # (1, C, k, h, w)
            sl = slice(req.frames - k, req.frames) if at_end else slice(0, k)
            cond.latents[:, :, sl] = z
            cond.mask[:, sl] = 1.0
        return cond
