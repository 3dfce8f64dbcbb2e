"""Wan 2.1 / 2.2 (Wan-AI) through diffusers: text-to-video, image-to-video with an I2V partner or TI2V, restyling."""

from __future__ import annotations

from pathlib import Path

from .adapter import DiffusersModel
from .weights import read_json


class WanModel(DiffusersModel):
    """Wan: the VAE (and the I2V model's CLIP image encoder) run in float32, as the Wan authors run them."""

    family = "wan"
    pipeline_classes = {"t2v": "WanPipeline", "i2v": "WanImageToVideoPipeline", "v2v": "WanVideoToVideoPipeline"}

    @classmethod
    def declared(cls, has_i2v: bool, expand_timesteps: bool) -> frozenset[str]:
        """Continues from one image only with an image-to-video pipeline; restyles with its video-to-video
        pipeline, except Wan 2.2 TI2V, whose timestep layout that pipeline lacks."""
        return frozenset({"t2v"} | (set() if expand_timesteps else {"v2v"}) | ({"i2v", "extend"} if has_i2v else set()))

    @property
    def expand_timesteps(self) -> bool:
        """A Wan 2.2 TI2V pipeline: one set of weights for text- and image-to-video."""
        if self.spec.i2v_repo is not None and self.spec.i2v_repo == self.spec.repo:
            return True
        return bool(read_json(self.main_path / "model_index.json").get("expand_timesteps")) if self.main_path else False

    def components_for(self, path: Path, dtype, shared: dict) -> dict:
        import diffusers  # deferred: diffusers and torch take seconds to import; only loading needs them
        import torch

        if "vae" not in shared and dtype != torch.float32:
            # the Wan authors run the VAE in float32 (load it so, rather than cast it afterwards)
            shared = {**shared, "vae": diffusers.AutoencoderKLWan.from_pretrained(
                str(path), subfolder="vae", torch_dtype=torch.float32, local_files_only=True)}
        return shared

    def after_load(self, pipe) -> None:
        if getattr(pipe, "image_encoder", None) is not None:
            import torch  # deferred: see components_for

            pipe.image_encoder.to(torch.float32)  # Wan 2.1 I2V: CLIP in float32, as its authors run it
