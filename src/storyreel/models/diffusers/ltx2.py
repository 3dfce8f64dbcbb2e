"""LTX-2 (Lightricks) through diffusers: text- and image-to-video, keyframes at frame indices, the two-stage path.

- one first frame goes to LTX2ImageToVideoPipeline; more given frames, or a
  frame to land on, to LTX2ConditionPipeline as LTX2VideoCondition items at
  latent indices (0 for the start, -1 for the last latent frame), which is what
  storyreel's connect and continuous hand-off need;
- `upsampler` (option): the two-stage path. Stage 1 generates at half the
  size, LTX2LatentUpsamplePipeline doubles the latents, stage 2 refines them
  at the full size with `refine_steps` steps;
- `camera_loras` (option): a folder of Lightricks' LTX-2 camera-control LoRAs;
  a shot whose storyreel move maps to one (CAMERA_LORAS) is generated with it
  and the edit keeps that shot's camera still (render.takes.moves_in_generation);
  other moves stay storyreel's digital camera;
- LTX-2 also generates a soundtrack. storyreel keeps the song: the generated
  audio is dropped (Clip.info says so).
"""

from __future__ import annotations

from ..base import GenerationRequest
from .adapter import DiffusersModel
from .loading import to_pil


# storyreel move -> Lightricks' LTX-2 camera-control LoRA (file ltx-2-19b-lora-camera-control-NAME.safetensors).
# A pan or tilt turns the camera and a dolly or jib moves it: the nearest LoRAs there are; dolly_zoom and shake
# have none and stay storyreel's.
CAMERA_LORAS = {"zoom_in": "dolly-in", "zoom_out": "dolly-out", "pan_left": "dolly-left", "pan_right": "dolly-right",
                "tilt_up": "jib-up", "tilt_down": "jib-down", "static": "static"}


class LTX2Model(DiffusersModel):
    """LTX-2: every mode on its main weights; audio generated and dropped."""

    family = "ltx2"
    pipeline_classes = {"t2v": "LTX2Pipeline", "i2v": "LTX2ImageToVideoPipeline", "condition": "LTX2ConditionPipeline"}
    i2v_in_main_weights = True

    @classmethod
    def declared(cls, has_i2v: bool, expand_timesteps: bool) -> frozenset[str]:
        return frozenset({"t2v", "i2v", "extend", "connect"})

    def family_args(self, pipe) -> dict:
        return {"frame_rate": float(self.native.fps)}

    # --- camera LoRAs ---------------------------------------------------------------------------

    def camera_lora_file(self, move: str):
        """The LoRA file for storyreel move `move` in the camera_loras folder, or None."""
        name = CAMERA_LORAS.get(move)
        if not self.options.camera_loras or name is None:
            return None
        from pathlib import Path  # deferred: only with camera LoRAs

        hits = sorted(Path(self.options.camera_loras).expanduser().glob(f"*{name}.safetensors"))
        return hits[0] if hits else None

    def camera_lora_for(self, move: str) -> str | None:
        return CAMERA_LORAS[move] if self.camera_lora_file(move) is not None else None

    def use_camera(self, pipe, move: str | None) -> str | None:
        """Activate the LoRA for `move` on the (shared) transformer, or switch LoRAs off; the LoRA's name or None."""
        loaded = getattr(self, "_camera_loaded", set())
        path = self.camera_lora_file(move) if move else None
        if path is None:
            if loaded:
                pipe.disable_lora()
            return None
        name = CAMERA_LORAS[move]
        if name not in loaded:
            from importlib.util import find_spec  # deferred: only with camera LoRAs

            if find_spec("peft") is None:
                from ...errors import StoryreelError  # deferred: only this refusal needs it

                raise StoryreelError("camera LoRAs need peft: pip install peft", field="camera_loras")
            pipe.load_lora_weights(str(path), adapter_name=name)
            self._camera_loaded = loaded | {name}
        pipe.enable_lora()
        pipe.set_adapters([name], [1.0])
        return name

    def call_args(self, req: GenerationRequest, mode: str) -> tuple[dict, str, int]:
        if mode == "t2v":
            return {"num_frames": req.frames}, "t2v", 0
        if mode == "i2v" and len(req.first_frames) == 1:
            return {"image": to_pil(req.first_frames)[0], "num_frames": req.frames}, "i2v", 1
        from diffusers.pipelines.ltx2.pipeline_ltx2_condition import LTX2VideoCondition  # deferred: heavy import

        a = self.native.frame_rule[0]
        conditions, used = [], 0
        if req.first_frames is not None:
            used = (len(req.first_frames) - 1) // a * a + 1  # a video condition covers a*k+1 frames
            clip = to_pil(req.first_frames[-used:])
            conditions.append(LTX2VideoCondition(frames=clip[0] if used == 1 else clip, index=0))
        if req.last_frames is not None:  # the last latent frame: frame frames-1 on the a*k+1 rule
            conditions.append(LTX2VideoCondition(frames=to_pil(req.last_frames[-1:])[0], index=-1))
        return {"conditions": conditions, "num_frames": req.frames}, "condition", used

    def generate(self, req: GenerationRequest, progress=None):
        clip = super().generate(req, progress)
        clip.info["audio"] = "generated by LTX-2, dropped: storyreel keeps the song"
        if req.camera is not None:
            clip.info["camera_lora"] = getattr(self, "_camera_used", None)
            clip.info["camera_move"] = req.camera
        if self.options.upsampler:
            clip.info["two_stage"] = {"first": [req.width // 2, req.height // 2], "upsampler": self.options.upsampler,
                                      "refine_steps": 3}
        return clip

    # --- the two-stage path -------------------------------------------------------------------

    def check_request(self, req: GenerationRequest) -> None:
        super().check_request(req)
        m = 2 * self.native.size_multiple
        if self.options.upsampler and (req.height % m or req.width % m):
            from ...errors import StoryreelError  # deferred: only this refusal needs it

            raise StoryreelError(f"{self.name} with an upsampler generates at half size first: height and width must "
                                 f"be multiples of {m}, got {req.width}x{req.height}")

    def check_available(self) -> dict:
        out = super().check_available()
        if self.options.upsampler and not self._upsampler_dir().is_dir():
            from ...errors import StoryreelError  # deferred: see check_request

            raise StoryreelError(f"the LTX-2 latent upsampler {self.options.upsampler} is not a directory here "
                                 f"(hf download Lightricks/LTX-2 --include 'latent_upsampler/*' and name that folder)",
                                 field="upsampler")
        return out

    def _upsampler_dir(self):
        from pathlib import Path  # deferred: only the two-stage path names a directory

        path = Path(self.options.upsampler).expanduser()
        return path / "latent_upsampler" if (path / "latent_upsampler" / "config.json").is_file() else path

    def _upsample_pipeline(self, pipe):
        """LTX2LatentUpsamplePipeline on the main pipeline's VAE and the upsampler's weights, built once."""
        if getattr(self, "_upsampler_pipe", None) is None:
            from diffusers import LTX2LatentUpsamplePipeline  # deferred: heavy import
            from diffusers.pipelines.ltx2.latent_upsampler import LTX2LatentUpsamplerModel

            model = LTX2LatentUpsamplerModel.from_pretrained(str(self._upsampler_dir()), local_files_only=True)
            model.to(device=pipe.vae.device, dtype=pipe.vae.dtype)
            up = LTX2LatentUpsamplePipeline(vae=pipe.vae, latent_upsampler=model)
            up.set_progress_bar_config(disable=True)
            self._upsampler_pipe = up
        return self._upsampler_pipe

    def run_pipeline(self, pipe, kwargs: dict, req: GenerationRequest):
        """One call, or with an upsampler the two stages: half size to latents, latents upsampled 2x, then refined
        at the full size on the distilled stage-2 sigmas (diffusers' LTX-2 two-stage recipe)."""
        self._camera_used = self.use_camera(pipe, req.camera)
        if not self.options.upsampler:
            return pipe(**kwargs).frames
        from diffusers.pipelines.ltx2.utils import STAGE_2_DISTILLED_SIGMA_VALUES as STAGE_2  # deferred: heavy

        h, w = req.height // 2, req.width // 2
        first = pipe(**{**kwargs, "height": h, "width": w, "output_type": "latent"})
        up = self._upsample_pipeline(pipe)(latents=first.frames, height=h, width=w, num_frames=req.frames,
                                            output_type="latent").frames
        second = {**kwargs, "latents": up, "audio_latents": first.audio, "sigmas": list(STAGE_2),
                  "noise_scale": STAGE_2[0], "num_inference_steps": len(STAGE_2)}
        return pipe(**second).frames
