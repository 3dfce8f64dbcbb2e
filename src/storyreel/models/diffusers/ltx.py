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
                        "condition": "LTXConditionPipeline", "long": "LTXI2VLongMultiPromptPipeline"}
    i2v_in_main_weights = True

    @property
    def temporal_tile(self) -> int:
        """Frames per window of the long multi-prompt pipeline (0: no long shots)."""
        tile = self.options.temporal_tile if self.options.temporal_tile is not None else self.spec.temporal_tile
        return int(tile or 0)

    @property
    def capabilities(self) -> frozenset[str]:
        return super().capabilities | ({"long"} if self.temporal_tile else set())

    @classmethod
    def declared(cls, has_i2v: bool, expand_timesteps: bool) -> frozenset[str]:
        return frozenset({"t2v", "i2v", "extend", "connect", "v2v"})

    def family_args(self, pipe) -> dict:
        args = {"frame_rate": int(round(self.native.fps))}
        if pipe.vae.config.timestep_conditioning:  # LTX 0.9.1+ VAEs denoise a little while decoding
            args.update(decode_timestep=0.05, decode_noise_scale=0.025)
        return args

    def call_args(self, req: GenerationRequest, mode: str) -> tuple[dict, str, int]:
        if req.frames > self.native.frames and self.temporal_tile and mode in {"t2v", "i2v"}:
            return self._long_args(req)
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

    def _long_args(self, req: GenerationRequest) -> tuple[dict, str, int]:
        """One call over overlapping windows (LTXI2VLongMultiPromptPipeline). A prompt written as parts
        separated by " | " gives one part per stretch of windows, in order over the shot."""
        tile = self.temporal_tile
        overlap = max(8, round(tile * 0.3 / 8) * 8)  # the authors' 24 of 80
        stride = tile - overlap
        windows = max(1, -(-(req.frames - overlap) // stride))
        parts = [p.strip() for p in req.prompt.split(" | ") if p.strip()] or [req.prompt]
        segments = [{"start_window": i * windows // len(parts), "end_window": max(i * windows // len(parts),
                                                                                (i + 1) * windows // len(parts) - 1),
                     "text": text} for i, text in enumerate(parts)]
        args = {"num_frames": req.frames, "temporal_tile_size": tile, "temporal_overlap": overlap,
                "prompt_segments": segments}
        used = 0
        if req.first_frames is not None:
            args["cond_image"], used = to_pil(req.first_frames[-1:])[0], 1
        return args, "long", used

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
