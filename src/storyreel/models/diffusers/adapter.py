"""One diffusers pipeline family behind storyreel's VideoModel interface: the part all families share.

What an adapter does, in order:

1. Names and grid (models.diffusers.specs): the size multiple and frame rule
   of the pipeline; diffusers rounds or pads some of these silently, here a
   request off the grid is an error, and `native.valid_frames` / `size_for`
   give counts and sizes on it.
2. Weights (models.diffusers.weights): looked up before any heavy work.
3. Loading (models.diffusers.loading): lazy, on the first generate.
4. generate: validate, pick the pipeline for the conditioning the request
   carries, call it with output_type="np" and a CPU generator seeded from the
   request (the same noise on any device), check the pipeline returned exactly
   what was asked, and report it in Clip.info.

A family's adapter (wan, ltx, cogvideox) says only what differs: the
pipeline classes, what it can do, the keyword arguments of each mode and any
loading detail its authors recommend.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from functools import cached_property
from pathlib import Path

import numpy as np

from ...errors import StoryreelError
from ..base import Clip, GenerationRequest, NativeFormat, VideoModelBase
from .loading import Pipelines, require_diffusers, resolve_device, to_pil
from .options import DiffusersOptions
from .specs import I2V_ONLY_CLASSES, MODELS, NEGATIVE, ModelSpec, grid_from_configs, round_to
from .weights import fingerprint, locate_weights, read_json

MODE_WORDS = {"v2v": "restyle a video (video-to-video)", "connect": "land on a last frame (keyframes)",
              "land": "land on a last frame (keyframes)", "i2v": "start from a given frame (image-to-video)"}
MODE_NEEDS = {"v2v": "v2v", "connect": "connect", "land": "connect", "i2v": "i2v"}  # mode -> capability


class DiffusersModel(VideoModelBase):
    """A diffusers text-to-video pipeline (and its image-to-video partner) as a VideoModel."""

    family = ""
    pipeline_classes: dict[str, str] = {}  # role (t2v, i2v, v2v, condition) -> diffusers class name
    i2v_in_main_weights = False  # image conditioning runs on the main pipeline's own weights (LTX)

    def __init__(self, spec: ModelSpec, options: DiffusersOptions | None = None, *, source: str | None = None) -> None:
        self.spec = spec
        self.name = spec.name
        self.options = options or DiffusersOptions()
        self.source = source or spec.repo  # what the user named: repo id or directory
        if self.options.offload != "none" and not self.device.startswith("cuda"):
            raise StoryreelError(
                f"offload={self.options.offload} needs a CUDA GPU (it moves weights between CPU and GPU memory); "
                f"this run is on {self.device}: leave offload at none", field="offload")
        self.pipelines = Pipelines(self)

    # --- what the model is ------------------------------------------------------------------

    @classmethod
    def declared(cls, has_i2v: bool, expand_timesteps: bool) -> frozenset[str]:
        """What the family can do, given an image-to-video pipeline (or not)."""
        raise NotImplementedError

    @cached_property
    def device(self) -> str:
        return resolve_device(self.options)

    @property
    def i2v_ref(self) -> str | None:
        """The repo or directory of the image-to-video pipeline, or None (no image conditioning)."""
        ref = self.options.i2v_model
        if ref is not None:
            if ref.lower() == "none":
                return None
            return MODELS[ref].repo if ref in MODELS else ref
        if self.spec.i2v_repo is not None:
            return self.spec.i2v_repo
        return self.source if self.expand_timesteps else None  # a TI2V pipeline conditions itself

    @property
    def i2v_shared(self) -> bool:
        """True when image conditioning runs on the main pipeline's own weights (LTX, Wan 2.2 TI2V)."""
        return self.i2v_in_main_weights or self.i2v_ref == self.source or self.i2v_ref == self.spec.repo

    @cached_property
    def main_path(self) -> Path | None:
        """The main pipeline's local directory if its weights are here (no network, no error)."""
        try:
            return locate_weights(self.source, self.name, allow_download=False).path
        except StoryreelError:
            return None

    @property
    def expand_timesteps(self) -> bool:
        """A text-and-image-to-video pipeline with one set of weights (Wan 2.2 TI2V); only Wan has one."""
        return False

    @property
    def capabilities(self) -> frozenset[str]:
        return self.declared(self.i2v_ref is not None, self.expand_timesteps)

    @cached_property
    def native(self) -> NativeFormat:
        multiple, rule = self.spec.size_multiple, self.spec.frame_rule
        if self.main_path is not None:
            multiple, rule = grid_from_configs(self.main_path, self.family)
        height, width = self.options.size or (self.spec.height, self.spec.width)
        frames = self.options.frames or self.spec.frames
        fmt = NativeFormat(fps=float(self.spec.fps), frames=frames, height=height, width=width,
                           size_multiple=multiple, frame_rule=rule)
        if height % multiple or width % multiple:
            raise StoryreelError(f"{self.name} generates sizes that are multiples of {multiple}; {width}x{height} is "
                                 f"not (nearest: {round_to(width, multiple)}x{round_to(height, multiple)})", field="size")
        if fmt.valid_frames(frames) != frames:
            a, b = rule
            raise StoryreelError(f"{self.name} generates {a}k+{b} frames; {frames} is not "
                                 f"(next: {fmt.valid_frames(frames)})", field="frames")
        if self.spec.max_frames and frames > self.spec.max_frames:
            raise StoryreelError(f"{self.name} generates at most {self.spec.max_frames} frames at a time, "
                                 f"not {frames}", field="frames")
        return fmt

    def size_for(self, width: int, height: int) -> tuple[int, int]:
        """(height, width) on the model's grid for an output of width x height: native area, output aspect.

        An aspect within 6% of the native one (16:9 for 832x480) gets the native
        size itself, or its transpose for portrait; models trained at one size
        (CogVideoX) always get their native size and the edit crops.
        """
        nh, nw, m = self.native.height, self.native.width, self.native.size_multiple
        aspect = width / height
        if self.spec.fixed_size and self.options.size is None:
            return nh, nw
        if abs(math.log(aspect / (nw / nh))) < 0.06:
            return nh, nw
        if abs(math.log(aspect / (nh / nw))) < 0.06:
            return nw, nh
        h = math.sqrt(nh * nw / aspect)
        return round_to(h, m), round_to(h * aspect, m)

    def check_pipeline(self, path: Path) -> None:
        """Refuse a saved pipeline of the family that storyreel cannot run (before any work)."""

    def check_available(self) -> dict:
        """Raise StoryreelError unless every pipeline this model will load is here (or downloadable); cheap.

        Returns {"weights": kind, "i2v": kind or None} with kind in local/cache/download.
        """
        require_diffusers(self.name)
        main = locate_weights(self.source, self.name)
        cls = read_json(main.path / "model_index.json").get("_class_name", "") if main.path else ""
        if main.path:
            self.check_pipeline(main.path)
        if cls in I2V_ONLY_CLASSES:
            raise StoryreelError(
                f"{self.source} is an image-to-video pipeline ({cls}): use a text-to-video model and name this one "
                f"as its i2v_model (it continues shots from their first frame)", field="model")
        out = {"weights": main.kind, "i2v": None}
        if self.i2v_ref is not None and not self.i2v_shared:
            out["i2v"] = locate_weights(self.i2v_ref, self.name, "for continuity the image-to-video weights").kind
        return out

    @cached_property
    def _identity(self) -> str:
        self.check_available()
        parts = [self.source, fingerprint(self.pipelines.local(self.source, "the weights"))]
        if self.i2v_ref is not None and not self.i2v_shared:
            path = self.pipelines.local(self.i2v_ref, "for continuity the image-to-video weights")
            parts.append(f"i2v={self.i2v_ref}:{fingerprint(path)}")
        parts.append(json.dumps(self.options.affects_output(), sort_keys=True))
        return f"{self.name}:" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    def identity(self) -> str:
        """Changes whenever the weights (or an option that changes the frames) change; part of cache keys."""
        return self._identity

    # --- requests ---------------------------------------------------------------------------

    @staticmethod
    def mode_of(req: GenerationRequest) -> str:
        if req.video is not None:
            return "v2v"
        if req.last_frames is not None:
            return "connect" if req.first_frames is not None else "land"
        if req.first_frames is not None:
            return "i2v"
        return "t2v"

    def check_request(self, req: GenerationRequest) -> None:
        """Refuse, precisely and before any work, what the model cannot do; nothing is adapted here."""
        fmt, name = self.native, self.name
        m, (a, b) = fmt.size_multiple, fmt.frame_rule
        if req.height % m or req.width % m or req.height <= 0 or req.width <= 0:
            raise StoryreelError(f"{name} needs height and width divisible by {m}, got {req.width}x{req.height} "
                                 f"(nearest: {round_to(req.width, m)}x{round_to(req.height, m)})")
        if req.frames < 1 or fmt.valid_frames(req.frames) != req.frames:
            raise StoryreelError(f"{name} needs {a}k+{b} frames, got {req.frames} "
                                 f"(next valid: {fmt.valid_frames(max(req.frames, 1))})")
        if self.spec.max_frames and req.frames > self.spec.max_frames and "long" not in self.capabilities:
            can = "available" if "extend" in self.capabilities else "not available for this model"
            raise StoryreelError(f"{name} makes at most {self.spec.max_frames} frames per generation, got "
                                 f"{req.frames}; longer shots need extension ({can})")
        mode = self.mode_of(req)
        need = MODE_NEEDS.get(mode)
        if need and need not in self.capabilities:
            hint = " (set i2v_model to an image-to-video pipeline of the same family)" if need == "i2v" else ""
            raise StoryreelError(f"{name} cannot {MODE_WORDS[mode]}{hint}")
        _check_frames(req)

    # --- generation -------------------------------------------------------------------------

    def call_args(self, req: GenerationRequest, mode: str) -> tuple[dict, str, int]:
        """(pipeline keyword arguments, pipeline role, conditioning frames used) for this request's mode.

        Wan and CogVideoX: image-to-video takes one image, the last of the
        given frames, as frame 0; video-to-video takes the video and a strength.
        """
        if mode == "t2v":
            return {"num_frames": req.frames}, "t2v", 0
        if mode == "v2v":
            return {"video": to_pil(req.video), "strength": float(req.strength)}, "v2v", 0
        return {"image": to_pil(req.first_frames[-1:])[0], "num_frames": req.frames}, "i2v", 1

    def family_args(self, pipe) -> dict:
        """Keyword arguments the family's pipelines take on every call."""
        return {}

    def run_pipeline(self, pipe, kwargs: dict, req: GenerationRequest):
        """The frames of one call (a family with a multi-stage path, LTX-2's upsampler, overrides this)."""
        return pipe(**kwargs).frames

    def pipeline_call(self, req: GenerationRequest, progress=None) -> tuple[object, dict, int, int]:
        """(pipeline, its keyword arguments, conditioning frames used, steps) for `req`: the call generate makes."""
        import torch  # deferred: torch takes seconds to import; planning and checks need none of it

        steps = req.steps or self.options.steps or self.spec.steps
        guidance = req.guidance if req.guidance is not None else (
            self.options.guidance if self.options.guidance is not None else self.spec.guidance)
        negative = req.negative_prompt or NEGATIVE[self.family]
        call, role, used = self.call_args(req, self.mode_of(req))
        steps = call.get("num_inference_steps", steps)  # a family's own count for one role (a distilled partner)
        pipe = self.pipelines.get(role)
        self.pipelines.activate(pipe)

        def on_step(p, i, t, kw):
            if progress is not None:  # restyling runs only the last `strength` of the steps
                progress(i + 1, getattr(p, "num_timesteps", None) or steps)
            # nothing to change: returning the tensors would hand LTXI2VLongMultiPromptPipeline its whole-video
            # latents in place of the window's (every pipeline keeps its own when the dict is empty)
            return {}

        kwargs = dict(prompt=req.prompt, negative_prompt=negative or None, height=req.height, width=req.width,
                      num_inference_steps=steps, guidance_scale=guidance, output_type="np",
                      generator=torch.Generator("cpu").manual_seed(int(req.seed) & 0x7FFFFFFFFFFFFFFF),
                      callback_on_step_end=on_step, **self.family_args(pipe))
        return pipe, {**kwargs, **call}, used, steps

    def generate(self, req: GenerationRequest, progress=None) -> Clip:
        import torch  # deferred: torch takes seconds to import; planning and checks need none of it

        self.check_request(req)
        pipe, kwargs, used, steps = self.pipeline_call(req, progress)
        if self.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        try:
            with torch.inference_mode():
                out = self.run_pipeline(pipe, kwargs, req)  # (1, T, H, W, 3) float in [0, 1]
        except torch.OutOfMemoryError:
            raise StoryreelError(
                f"{self.name} ran out of GPU memory making {req.frames} frames of {req.width}x{req.height}: try "
                f"offload=model (or group), vae_tiling, fewer frames per generation or a smaller size") from None
        seconds = time.perf_counter() - t0
        video = np.asarray(out[0] if isinstance(out, (list, tuple)) or np.ndim(out) == 5 else out)
        frames = (np.clip(video, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        if frames.shape != (req.frames, req.height, req.width, 3):  # diffusers adapted something: never pass it on
            raise StoryreelError(f"{type(pipe).__name__} returned {frames.shape[0]} frames of {frames.shape[2]}x"
                                 f"{frames.shape[1]} for a request of {req.frames} frames of {req.width}x{req.height}")
        if used and req.first_frames is not None and len(req.first_frames) > used:
            # The model took only the last `used` given frames: the given ones before them lead the clip, so its
            # first len(first_frames) frames still line up with the conditioning frames (models.chain relies on it).
            frames = np.concatenate([req.first_frames[: len(req.first_frames) - used], frames])[: req.frames]
        info = self._info(req, pipe, int(video.shape[0]), used, steps, kwargs["guidance_scale"], seconds)
        return Clip(frames, self.native.fps, req, info)

    def _info(self, req, pipe, generated: int, used: int, steps: int, guidance: float, seconds: float) -> dict:
        """What was generated, for Clip.info and the plan record."""
        import torch  # deferred: see generate

        mode = self.mode_of(req)
        info = {
            "model": self.name,
            "repo": self.source if mode in {"t2v", "v2v"} or self.i2v_shared else self.i2v_ref,
            "pipeline": type(pipe).__name__,
            "mode": mode,
            "native_size": [req.width, req.height],
            "requested_frames": req.frames,
            "generated_frames": generated,
            "frames": req.frames,
            "fps": self.native.fps,
            "steps": steps,
            "guidance": guidance,
            "dtype": self.pipelines.dtype_name(),
            "device": self.device,
            "seconds": round(seconds, 3),
            **req.conditioning_summary(),
            "reference_image": req.reference_image is not None and "reference" in self.capabilities,
        }
        if used:
            info["conditioning_frames_used"] = used
        if self.options.offload != "none":
            info["offload"] = self.options.offload
        if self.options.cache != "none":
            info["cache"] = f"{self.options.cache}:{self.options.cache_threshold}"
        if self.device.startswith("cuda"):
            info["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated() / 2**20)
        return info

    # --- loading hooks (models.diffusers.loading calls them) -------------------------------------

    def components_for(self, path: Path, dtype, shared: dict) -> dict:
        """Components to load differently from the rest (e.g. a VAE in float32), added to `shared`."""
        return shared

    def after_load(self, pipe) -> None:
        """Adjust a freshly loaded pipeline (dtype of one component, ...)."""


def _check_frames(req: GenerationRequest) -> None:
    """The request's conditioning frames fit it: shape, dtype, count; strength in range."""
    for label, frames in (("first_frames", req.first_frames), ("last_frames", req.last_frames), ("video", req.video)):
        if frames is not None:
            if frames.ndim != 4 or frames.shape[1:] != (req.height, req.width, 3) or frames.dtype != np.uint8:
                raise StoryreelError(f"{label} must be uint8 frames of {req.width}x{req.height}, "
                                     f"got shape {frames.shape} {frames.dtype}")
            if len(frames) == 0:
                raise StoryreelError(f"{label} is empty")
    if req.first_frames is not None and len(req.first_frames) >= req.frames:
        raise StoryreelError(f"{len(req.first_frames)} conditioning frames do not leave room in a "
                             f"{req.frames}-frame generation")
    if req.video is not None and len(req.video) != req.frames:
        raise StoryreelError(f"video to restyle has {len(req.video)} frames, request asks for {req.frames}")
    if req.video is not None and not 0.0 < req.strength <= 1.0:
        raise StoryreelError(f"strength must be in (0, 1], got {req.strength}")
