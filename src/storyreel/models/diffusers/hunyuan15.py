"""HunyuanVideo 1.5 (Tencent) through diffusers: 480p/720p, 121 frames at 24 fps, and its image-to-video model.

Two pipelines on two sets of weights: HunyuanVideo15Pipeline (text-to-video)
and HunyuanVideo15ImageToVideoPipeline (the step-distilled image-to-video
model by default: 8 steps), which continues a shot from its hand-off frame.
The image-to-video pipeline takes no size: it picks the resolution bucket
nearest the image's aspect (its `target_size`, on the VAE's 16-px grid), so
`size_for` answers that same bucket for both pipelines and the request lands
on it exactly. Guidance lives in the pipelines' guider (classifier-free
guidance), not in a keyword; they take no step callback.
"""

from __future__ import annotations

from ..base import GenerationRequest
from .adapter import DiffusersModel
from .loading import to_pil
from .weights import read_json


class HunyuanVideo15Model(DiffusersModel):
    """HunyuanVideo 1.5: t2v, and i2v / extension with its image-to-video partner."""

    family = "hunyuan15"
    pipeline_classes = {"t2v": "HunyuanVideo15Pipeline", "i2v": "HunyuanVideo15ImageToVideoPipeline"}

    @classmethod
    def declared(cls, has_i2v: bool, expand_timesteps: bool) -> frozenset[str]:
        return frozenset({"t2v"} | ({"i2v", "extend"} if has_i2v else set()))

    @property
    def target_size(self) -> int:
        """The transformer's resolution (480 or 720 for the real models) from its config, else the table's."""
        cfg = read_json(self.main_path / "transformer" / "config.json") if self.main_path else {}
        return int(cfg.get("target_size") or min(self.native.height, self.native.width))

    def size_for(self, width: int, height: int) -> tuple[int, int]:
        """(height, width) of the resolution bucket nearest the output's aspect, as the i2v pipeline picks it."""
        if self.options.size is not None:
            return self.native.height, self.native.width
        from diffusers.pipelines.hunyuan_video1_5.image_processor import (  # deferred: heavy import
            generate_crop_size_list, get_closest_ratio)

        import numpy as np  # the bucket search takes an array of ratios

        crops = generate_crop_size_list(base_size=self.target_size, patch_size=self.native.size_multiple)
        ratios = np.array([round(float(h) / float(w), 5) for h, w in crops])
        h, w = get_closest_ratio(height, width, ratios, crops)[0]
        return int(h), int(w)

    def call_args(self, req: GenerationRequest, mode: str) -> tuple[dict, str, int]:
        if mode == "t2v":
            return {"num_frames": req.frames}, "t2v", 0
        args = {"image": to_pil(req.first_frames[-1:])[0], "num_frames": req.frames}
        if req.steps is None and self.options.steps is None and self.spec.i2v_steps and self.options.i2v_model is None:
            args["num_inference_steps"] = self.spec.i2v_steps  # the step-distilled image-to-video model
        return args, "i2v", 1

    def run_pipeline(self, pipe, kwargs: dict, req: GenerationRequest):
        """The call without what these pipelines do not take: guidance goes to the guider, no step callback,
        and the image-to-video pipeline takes its size from the image (size_for made it the request's)."""
        kwargs = dict(kwargs)
        guidance = kwargs.pop("guidance_scale")
        kwargs.pop("callback_on_step_end", None)
        if guidance is not None and getattr(pipe, "guider", None) is not None:
            pipe.guider = pipe.guider.new(guidance_scale=float(guidance))
        if "image" in kwargs:
            kwargs.pop("height")
            kwargs.pop("width")
        return pipe(**kwargs).frames
