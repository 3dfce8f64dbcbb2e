"""SkyReels-V2 diffusion forcing (Skywork) through diffusers: a long shot is one coherent generation.

Diffusion forcing denoises a video window by window, each window
conditioned on the last frames of the one before inside the same sampling
run, so a 20-second shot comes out of one call instead of a chain of
separate extensions (the backend declares "long": models.chain then asks for
the whole shot at once). Windows are the model's native frame count
(`base_num_frames`), with 17 frames of history as the authors run it
(`overlap_history`, fewer for small windows) and `addnoise_condition` 20 for
long videos. A first frame (and a last one) goes to the image-to-video
pipeline, which shares the weights.
"""

from __future__ import annotations

from ..base import GenerationRequest
from .loading import to_pil
from .wan import WanModel

HISTORY_LATENT_FRAMES = 5  # 17 video frames at the Wan VAE's 4x temporal compression
ADD_NOISE_CONDITION = 20.0  # the authors' setting for long videos


class SkyReelsModel(WanModel):
    """SkyReels-V2 DF: t2v, i2v and connection on shared weights, shots of any length in one generation."""

    family = "skyreels"
    pipeline_classes = {"t2v": "SkyReelsV2DiffusionForcingPipeline",
                        "i2v": "SkyReelsV2DiffusionForcingImageToVideoPipeline"}
    i2v_in_main_weights = True

    @classmethod
    def declared(cls, has_i2v: bool, expand_timesteps: bool) -> frozenset[str]:
        return frozenset({"t2v", "i2v", "extend", "connect", "long"})

    @property
    def expand_timesteps(self) -> bool:
        return False

    def family_args(self, pipe) -> dict:
        return {"fps": int(round(self.native.fps))}

    def window_args(self, frames: int) -> dict:
        """Diffusion-forcing arguments for a generation of `frames` frames (several windows when long)."""
        base = self.native.frames
        if frames <= base:
            return {"base_num_frames": frames}
        a = self.native.frame_rule[0]
        history = min(HISTORY_LATENT_FRAMES, (base - 1) // a)  # latent frames of history, < the window's
        return {"base_num_frames": base, "overlap_history": a * (history - 1) + 1,
                "addnoise_condition": ADD_NOISE_CONDITION}

    def call_args(self, req: GenerationRequest, mode: str) -> tuple[dict, str, int]:
        args = {"num_frames": req.frames, **self.window_args(req.frames)}
        if mode == "t2v":
            return args, "t2v", 0
        args["image"] = to_pil(req.first_frames[-1:])[0]
        if req.last_frames is not None:
            args["last_image"] = to_pil(req.last_frames[-1:])[0]
        return args, "i2v", 1
