"""Memory and speed options of the diffusers backends: from a storyboard's `model_options:`, the CLI, or the environment."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields

from ...errors import StoryreelError


DTYPES = {"auto", "bf16", "fp16", "fp32"}


OFFLOADS = {"none", "model", "group", "sequential"}


CACHES = {"none", "fbc"}


@dataclass(frozen=True)
class DiffusersOptions:
    """Memory and speed options for the diffusers backends (storyboard `model_options:`, CLI, or environment).

    dtype       auto (bf16 on a GPU, fp16 for CogVideoX-2B, fp32 on CPU) | bf16 | fp16 | fp32
    offload     none | model (whole components move to the GPU in turn) | group (layer groups, streamed)
                | sequential (leaf by leaf: least memory, slowest). GPU only: on CPU these raise.
    vae_tiling  decode (and encode) in tiles: less memory for large frames
    cache       none | fbc (diffusers' FirstBlockCache: skip the rest of the transformer when the first
                block's output barely changes between steps; opt-in, trades a little quality for speed)
    cache_threshold  FirstBlockCache threshold (higher: faster, lower quality)
    steps, guidance  defaults for requests that do not set them (else the model's own defaults)
    size        (height, width) of the native generation, instead of the table's
    frames      frames per generation, instead of the table's (must be on the model's frame rule)
    i2v_model   the image-to-video pipeline used for continuity and extension (a name's repo, a repo id,
                a directory), or "none" to render without image conditioning
    device      cuda | mps | cpu (default: cuda if available, else cpu)
    upsampler   LTX-2 only: a directory holding an LTX2LatentUpsamplerModel (itself or in `latent_upsampler/`):
                the two-stage path (half size, latents upsampled 2x, refined at full size)
    temporal_tile  LTX-Video only: frames per window of LTXI2VLongMultiPromptPipeline; a shot longer than one
                generation is then ONE call over overlapping windows, one prompt per window (the model
                declares "long"). LTX-Video 0.9.8 distilled: 80 by default; 0 turns it off
    camera_loras  LTX-2 only: a directory of Lightricks' camera-control LoRAs (*-dolly-in.safetensors, ...):
                shots whose storyreel move has one are moved by the model (needs peft)
    """

    dtype: str = "auto"
    offload: str = "none"
    vae_tiling: bool = False
    cache: str = "none"
    cache_threshold: float = 0.05
    steps: int | None = None
    guidance: float | None = None
    size: tuple[int, int] | None = None
    frames: int | None = None
    i2v_model: str | None = None
    device: str | None = None
    upsampler: str | None = None
    camera_loras: str | None = None
    temporal_tile: int | None = None

    def __post_init__(self) -> None:
        for name, value, allowed in (("dtype", self.dtype, DTYPES), ("offload", self.offload, OFFLOADS), ("cache", self.cache, CACHES)):
            if value not in allowed:
                raise StoryreelError(f"{name} must be one of {', '.join(sorted(allowed))}, got {value!r}", field=name)
        if self.device is not None and self.device not in {"cuda", "mps", "cpu"} and not str(self.device).startswith("cuda:"):
            raise StoryreelError(f"device must be cuda, mps or cpu, got {self.device!r}", field="device")
        if self.steps is not None and self.steps < 1:
            raise StoryreelError(f"steps must be at least 1, got {self.steps}", field="steps")
        if not self.cache_threshold > 0:
            raise StoryreelError(f"cache threshold must be > 0, got {self.cache_threshold}", field="cache")

    @classmethod
    def from_mapping(cls, data: dict | None) -> "DiffusersOptions":
        """From a storyboard block / CLI flags: {dtype, offload, vae_tiling, cache, steps, guidance, size, frames, i2v_model, device}.

        `size` may be "WxH" (as everywhere in storyreel) or [height, width]; `cache` may be "fbc:0.1".
        """
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise StoryreelError(f"unknown diffusers option {unknown[0]!r}; known: {', '.join(sorted(known))}", field=unknown[0])
        kw = {k: v for k, v in data.items() if v is not None}
        if isinstance(kw.get("cache"), str) and ":" in kw["cache"]:
            kind, _, thr = kw["cache"].partition(":")
            kw["cache"], kw["cache_threshold"] = kind, _number(thr, "cache", float)
        if isinstance(kw.get("size"), str):
            kw["size"] = _parse_wxh(kw["size"])
        elif kw.get("size") is not None:
            kw["size"] = tuple(int(x) for x in kw["size"])
        if isinstance(kw.get("vae_tiling"), str):
            kw["vae_tiling"] = kw["vae_tiling"].strip().lower() in {"1", "true", "yes", "on"}
        for key, typ in (("steps", int), ("frames", int), ("guidance", float), ("cache_threshold", float),
                         ("temporal_tile", int)):
            if key in kw:
                kw[key] = _number(kw[key], key, typ)
        for key in ("dtype", "offload", "cache"):
            if key in kw:
                kw[key] = str(kw[key]).strip().lower().replace("bfloat16", "bf16").replace("float16", "fp16").replace("float32", "fp32")
        return cls(**kw)

    @classmethod
    def from_env(cls, env=None) -> "DiffusersOptions":
        """STORYREEL_DTYPE, _OFFLOAD, _VAE_TILING, _CACHE (fbc or fbc:0.1), _STEPS, _GUIDANCE, _GEN_SIZE (WxH),
        _GEN_FRAMES, _I2V_MODEL, _DEVICE."""
        env = os.environ if env is None else env
        keys = {"dtype": "DTYPE", "offload": "OFFLOAD", "vae_tiling": "VAE_TILING", "cache": "CACHE", "steps": "STEPS",
                "guidance": "GUIDANCE", "size": "GEN_SIZE", "frames": "GEN_FRAMES", "i2v_model": "I2V_MODEL",
                "device": "DEVICE"}
        return cls.from_mapping({k: env[f"STORYREEL_{v}"] for k, v in keys.items() if env.get(f"STORYREEL_{v}")})

    def affects_output(self) -> dict:
        """The options that change the frames (part of the model identity, hence of cache keys)."""
        out = {"dtype": self.dtype, "vae_tiling": self.vae_tiling, "steps": self.steps, "guidance": self.guidance,
               "cache": self.cache if self.cache == "none" else f"{self.cache}:{self.cache_threshold}"}
        if self.upsampler:
            out["upsampler"] = self.upsampler
        if self.camera_loras:
            out["camera_loras"] = self.camera_loras
        return out


def _number(value, name, typ):
    try:
        return typ(value)
    except (TypeError, ValueError):
        raise StoryreelError(f"{name} must be a number, got {value!r}", field=name) from None


def _parse_wxh(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not m:
        raise StoryreelError(f"size must be WxH, e.g. 832x480, got {text!r}", field="size")
    return int(m.group(2)), int(m.group(1))  # (height, width)
