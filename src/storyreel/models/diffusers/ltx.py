"""LTX-Video (Lightricks) through diffusers: conditions on any frames, so one set of weights does every mode.

One first frame goes to the image-to-video pipeline; more frames, keyframes or
a last frame to the condition pipeline (a video condition must be 8k+1
frames: the last such run of the given frames); restyling re-noises the
source video's latents to `strength` and denoises them under the prompt.
"""

from __future__ import annotations

from ..base import GenerationRequest
from .adapter import DiffusersModel
from .loading import to_pil


class LTXModel(DiffusersModel):
    """LTX-Video: every capability on its main weights."""

    family = "ltx"
    pipeline_classes = {"t2v": "LTXPipeline", "i2v": "LTXImageToVideoPipeline", "v2v": "LTXConditionPipeline",
                        "condition": "LTXConditionPipeline"}
    i2v_in_main_weights = True

    @classmethod
    def declared(cls, has_i2v: bool, expand_timesteps: bool) -> frozenset[str]:
        return frozenset({"t2v", "i2v", "extend", "connect", "v2v"})

    def family_args(self, pipe) -> dict:
        args = {"frame_rate": int(round(self.native.fps))}
        if pipe.vae.config.timestep_conditioning:  # LTX 0.9.1+ VAEs denoise a little while decoding
            args.update(decode_timestep=0.05, decode_noise_scale=0.025)
        return args

    def call_args(self, req: GenerationRequest, mode: str) -> tuple[dict, str, int]:
        if mode == "t2v":
            return {"num_frames": req.frames}, "t2v", 0
        if mode == "v2v":
            return self._restyle_args(req), "condition", 0
        return self._condition_args(req, mode)

    def _condition_args(self, req: GenerationRequest, mode: str) -> tuple[dict, str, int]:
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition  # deferred: heavy import

        a = self.native.frame_rule[0]
        if mode == "i2v" and len(req.first_frames) == 1:
            return {"image": to_pil(req.first_frames)[0], "num_frames": req.frames}, "i2v", 1
        conditions, used = [], 0
        if req.first_frames is not None:
            used = (len(req.first_frames) - 1) // a * a + 1
            clip = to_pil(req.first_frames[-used:])
            conditions.append(LTXVideoCondition(image=clip[0], frame_index=0) if used == 1
                              else LTXVideoCondition(video=clip, frame_index=0))
        if req.last_frames is not None:
            # a keyframe lands on the last frame (its index, frames - 1, is a multiple of 8 on the 8k+1 rule)
            conditions.append(LTXVideoCondition(image=to_pil(req.last_frames[-1:])[0], frame_index=req.frames - 1))
        return {"conditions": conditions, "num_frames": req.frames}, "condition", used

    def _restyle_args(self, req: GenerationRequest) -> dict:
        import torch  # deferred: heavy import
        from diffusers.pipelines.ltx.pipeline_ltx_condition import retrieve_latents

        pipe = self.pipelines.get("condition")
        self.pipelines.activate(pipe)  # offload hooks must be on this pipeline before its VAE runs
        vae = pipe.vae
        device = next(vae.parameters()).device if self.options.offload == "none" else torch.device(self.device)
        video = pipe.video_processor.preprocess_video(to_pil(req.video), req.height, req.width)  # (1, C, T, H, W)
        with torch.inference_mode():
            lat = retrieve_latents(vae.encode(video.to(device, dtype=vae.dtype)), sample_mode="argmax")
            # diffusers' own latent normalisation (a static helper of its LTX pipelines, not a public function)
            lat = pipe._normalize_latents(lat, vae.latents_mean, vae.latents_std).float()
        return {"latents": lat, "denoise_strength": float(req.strength), "num_frames": req.frames}
