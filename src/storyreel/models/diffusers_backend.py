"""Open-weight video models through Hugging Face diffusers: Wan 2.1/2.2, LTX-Video, CogVideoX.

Every model sits behind storyreel's one VideoModel interface. What each adapter
does, in order:

1. Names. `MODELS` maps a storyreel name (`wan2.1-t2v-1.3b`) to its Hugging Face
   repo, the repo of the image-to-video pipeline used for continuity (if any)
   and its native format. `model:` also takes a repo id or the directory of a
   saved pipeline; the family (Wan, LTX, CogVideoX) then comes from its
   model_index.json.
2. Grid. The size multiple and the frame rule come from the pipeline's own
   configs (VAE compression x transformer patch), falling back to the table
   when the weights are not here yet: Wan 16 (Wan 2.2 5B: 32) and 4k+1 frames,
   LTX 32 and 8k+1, CogVideoX 16 (8x VAE x 2x2 patches) and 8k+1 (its VAE
   decodes an even number of latent frames to 4l frames, not 4k+1). diffusers
   rounds or pads some of these silently; here a request off the grid is an
   error, and `native.valid_frames` / `size_for` give counts and sizes on it.
3. Weights. Looked up in the Hugging Face cache (or the local directory) before
   any heavy work; missing and not downloadable gives one line naming the repo
   and the `hf download` command, never a hub-client traceback.
4. Loading is lazy (first generate): device cuda if there is one, else cpu;
   dtype bf16 on a GPU (fp16 for CogVideoX-2B, as its authors run it), fp32 on
   CPU; optional model/group/sequential CPU offload (GPU only), VAE tiling and
   a FirstBlockCache. Pipelines for other modes share the loaded components
   (`from_pipe`); a separate image-to-video repo shares text encoder and VAE.
5. generate: validate, pick the pipeline for the conditioning the request
   carries, call it with output_type="np" and a CPU generator seeded from the
   request (the same noise on any device), check the pipeline returned exactly
   what was asked, and report it in Clip.info.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
from dataclasses import dataclass, fields, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from ..errors import StoryreelError
from .base import Clip, GenerationRequest, NativeFormat

# ----------------------------------------------------------------------------- the model table


@dataclass(frozen=True)
class ModelSpec:
    """One named model: where its weights live and what it generates natively."""

    name: str
    family: str  # "wan" | "ltx" | "cogvideox"
    repo: str
    i2v_repo: str | None  # pipeline used for image conditioning (continuity, extension); == repo for TI2V models
    fps: float
    frames: int  # frames per native generation
    height: int
    width: int
    size_multiple: int
    frame_rule: tuple[int, int]
    max_frames: int | None = None  # longest single generation the model takes (None: memory is the limit)
    steps: int = 50
    guidance: float = 5.0
    gpu_dtype: str = "bf16"
    fixed_size: bool = False  # trained at one size only: size_for always answers the native size
    authors: str = ""  # VRAM / speed as the model authors state them (README, bench)


WAN_NEGATIVE = (
    "Bright tones, overexposed, static, blurred details, subtitles, style, works, paintings, images, static, "
    "overall gray, worst quality, low quality, JPEG compression residue, ugly, incomplete, extra fingers, poorly "
    "drawn hands, poorly drawn faces, deformed, disfigured, misshapen limbs, fused fingers, still picture, messy "
    "background, three legs, many people in the background, walking backwards"
)
LTX_NEGATIVE = "worst quality, inconsistent motion, blurry, jittery, distorted"
NEGATIVE = {"wan": WAN_NEGATIVE, "ltx": LTX_NEGATIVE, "cogvideox": ""}

MODELS: dict[str, ModelSpec] = {
    s.name: s
    for s in [
        ModelSpec("wan2.1-t2v-1.3b", "wan", "Wan-AI/Wan2.1-T2V-1.3B-Diffusers", None,
                  fps=16, frames=81, height=480, width=832, size_multiple=16, frame_rule=(4, 1),
                  authors="8.19 GB VRAM; a 5 s 480P video in about 4 min on an RTX 4090 (no optimisation)"),
        ModelSpec("wan2.1-t2v-14b", "wan", "Wan-AI/Wan2.1-T2V-14B-Diffusers", "Wan-AI/Wan2.1-I2V-14B-720P-Diffusers",
                  fps=16, frames=81, height=720, width=1280, size_multiple=16, frame_rule=(4, 1),
                  authors="480P and 720P; multi-GPU or offloading on consumer cards (see the model card's table)"),
        ModelSpec("wan2.2-ti2v-5b", "wan", "Wan-AI/Wan2.2-TI2V-5B-Diffusers", "Wan-AI/Wan2.2-TI2V-5B-Diffusers",
                  fps=24, frames=121, height=704, width=1280, size_multiple=32, frame_rule=(4, 1),
                  authors="720P at 24 fps on a single consumer GPU (RTX 4090, 24 GB); a 5 s 720P video in under 9 min"),
        ModelSpec("ltx-video", "ltx", "Lightricks/LTX-Video-0.9.5", "Lightricks/LTX-Video-0.9.5",
                  fps=24, frames=121, height=512, width=768, size_multiple=32, frame_rule=(8, 1), max_frames=257,
                  guidance=3.0,
                  authors="faster than real time: 5 s of 24 fps 768x512 video in about 2 s on an H100 (paper)"),
        ModelSpec("cogvideox-2b", "cogvideox", "THUDM/CogVideoX-2b", None,
                  fps=8, frames=49, height=480, width=720, size_multiple=16, frame_rule=(8, 1), max_frames=49,
                  guidance=6.0, gpu_dtype="fp16", fixed_size=True,
                  authors="diffusers FP16 from 4 GB VRAM (with offload and VAE tiling); 50 steps ~90 s on A100, ~45 s on H100"),
        ModelSpec("cogvideox-5b", "cogvideox", "THUDM/CogVideoX-5b", "THUDM/CogVideoX-5b-I2V",
                  fps=8, frames=49, height=480, width=720, size_multiple=16, frame_rule=(8, 1), max_frames=49,
                  guidance=6.0, fixed_size=True,
                  authors="diffusers BF16 from 5 GB VRAM (with offload and VAE tiling); 50 steps ~180 s on A100, ~90 s on H100"),
    ]
}

# Defaults for a repo id or directory that is not in the table, by family.
FAMILY_DEFAULTS = {
    "wan": MODELS["wan2.1-t2v-1.3b"],
    "ltx": MODELS["ltx-video"],
    "cogvideox": MODELS["cogvideox-5b"],
}

T2V_CLASS = {"wan": "WanPipeline", "ltx": "LTXPipeline", "cogvideox": "CogVideoXPipeline"}
I2V_CLASS = {"wan": "WanImageToVideoPipeline", "ltx": "LTXImageToVideoPipeline", "cogvideox": "CogVideoXImageToVideoPipeline"}
V2V_CLASS = {"wan": "WanVideoToVideoPipeline", "ltx": "LTXConditionPipeline", "cogvideox": "CogVideoXVideoToVideoPipeline"}
I2V_ONLY_CLASSES = {"WanImageToVideoPipeline", "CogVideoXImageToVideoPipeline"}


def family_of(class_name: str) -> str | None:
    """'WanPipeline' -> 'wan', 'LTXConditionPipeline' -> 'ltx', 'CogVideoXPipeline' -> 'cogvideox'."""
    for prefix, fam in (("Wan", "wan"), ("LTX", "ltx"), ("CogVideoX", "cogvideox")):
        if class_name.startswith(prefix):
            return fam
    return None


# ----------------------------------------------------------------------------- options


DTYPES = {"auto", "bf16", "fp16", "fp32"}
OFFLOADS = {"none", "model", "group", "sequential"}
CACHES = {"none", "fbc"}


@dataclass(frozen=True)
class DiffusersOptions:
    """Memory and speed options for the diffusers backends (storyboard `diffusers:` block, CLI, or environment).

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
        for key, typ in (("steps", int), ("frames", int), ("guidance", float), ("cache_threshold", float)):
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
        return {"dtype": self.dtype, "vae_tiling": self.vae_tiling, "steps": self.steps, "guidance": self.guidance,
                "cache": self.cache if self.cache == "none" else f"{self.cache}:{self.cache_threshold}"}


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


# ----------------------------------------------------------------------------- weights: cache, local dirs, errors


def _offline() -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}:
        return True
    try:
        from huggingface_hub import constants

        return bool(constants.HF_HUB_OFFLINE)
    except Exception:  # pragma: no cover - hub client missing
        return False


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache, read from the environment now (HF_HUB_CACHE, HF_HOME), not at import."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def _looks_like_repo_id(text: str) -> bool:
    return re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9][A-Za-z0-9_.\-]*", text) is not None


def missing_weights_message(name: str, repo: str, role: str = "the weights", partial: str = "") -> str:
    where = f"are only partly in the Hugging Face cache ({partial})" if partial else "are not in the Hugging Face cache"
    return (
        f"model {name} needs {role} of {repo}, which {where} and cannot be downloaded here: "
        f"run `hf download {repo}` (older clients: `huggingface-cli download {repo}`) on a machine with network "
        f"(or set HF_HOME to a cache that has them), or pass a local directory of a saved pipeline as model:"
    )


def _incomplete(path: Path) -> str:
    """'' if `path` holds a complete saved pipeline, else what is missing (e.g. 'transformer weights')."""
    index = path / "model_index.json"
    if not index.is_file():
        return "model_index.json"
    try:
        components = json.loads(index.read_text())
    except (OSError, json.JSONDecodeError):
        return "a readable model_index.json"
    for comp, spec in components.items():
        if comp.startswith("_") or not isinstance(spec, list) or spec[0] is None:
            continue
        sub = path / comp
        if not sub.is_dir() or not any(sub.iterdir()):
            return f"{comp}/"
        if (sub / "config.json").is_file():  # a model: needs its weights (all shards of a sharded checkpoint)
            shards = _index_shards(sub)
            if shards is not None:
                absent = [s for s in shards if not (sub / s).is_file()]
                if absent:
                    return f"{comp}/{absent[0]}"
            elif not any(p.suffix in {".safetensors", ".bin", ".pt", ".gguf"} for p in sub.iterdir() if p.is_file()):
                return f"{comp} weights"
    return ""


def _index_shards(sub: Path) -> list[str] | None:
    for idx in sub.glob("*.index.json"):
        try:
            return sorted(set(json.loads(idx.read_text())["weight_map"].values()))
        except (OSError, json.JSONDecodeError, KeyError):
            return None
    return None


@dataclass
class WeightsSource:
    """Where one pipeline's weights come from."""

    ref: str  # repo id or directory as the user gave it
    path: Path | None  # local directory holding model_index.json (None: to download)
    kind: str  # "local" | "cache" | "download"


def locate_weights(ref: str, model_name: str, role: str = "the weights", *, allow_download: bool = True) -> WeightsSource:
    """Find `ref` (a directory or a repo id) locally or in the hub cache; never downloads.

    Not cached: with network (and HF_HUB_OFFLINE unset) a short check that the
    repo exists means it will be downloaded on first use; otherwise a
    StoryreelError says which repo to download and how.
    """
    p = Path(ref).expanduser()
    if p.is_dir():
        missing = _incomplete(p)
        if missing:
            raise StoryreelError(f"{ref} is not a complete saved diffusers pipeline (no {missing})", field="model")
        return WeightsSource(ref, p.resolve(), "local")
    if not _looks_like_repo_id(ref):
        raise StoryreelError(f"{ref!r} is neither a directory nor a Hugging Face repo id", field="model")
    snapshot = None
    try:
        from huggingface_hub import snapshot_download

        snapshot = Path(snapshot_download(ref, local_files_only=True, cache_dir=str(hub_cache_dir())))
    except Exception:  # LocalEntryNotFoundError and friends: not in the cache
        snapshot = None
    if snapshot is not None:
        missing = _incomplete(snapshot)
        if not missing:
            return WeightsSource(ref, snapshot, "cache")
        if _offline() or not allow_download:
            raise StoryreelError(missing_weights_message(model_name, ref, role, partial=f"missing {missing}"))
    if _offline() or not allow_download:
        raise StoryreelError(missing_weights_message(model_name, ref, role))
    try:
        from huggingface_hub import HfApi

        exists = HfApi().file_exists(ref, "model_index.json")
    except Exception as e:  # no network, proxy, gated repo...
        name = type(e).__name__
        if "Gated" in name or "401" in str(e) or "403" in str(e):
            raise StoryreelError(
                f"model {model_name}: {ref} is gated: accept its licence on huggingface.co and run `hf auth login`, "
                f"then `hf download {ref}`") from None
        raise StoryreelError(missing_weights_message(model_name, ref, role)) from None
    if not exists:
        raise StoryreelError(f"model {model_name}: {ref} is not a diffusers pipeline on the Hugging Face Hub (no model_index.json)", field="model")
    return WeightsSource(ref, None, "download")


def _fingerprint(path: Path) -> str:
    """A digest that changes when the pipeline's configs or weights change, without reading gigabytes.

    Configs are hashed whole. A weight file in the hub cache is a link to a blob
    named by its sha256, so the link target is its content hash; elsewhere the
    name, size, modification time and the first and last MiB stand in.
    """
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)):
        rel = f.relative_to(path).as_posix()
        h.update(rel.encode())
        if f.suffix in {".json", ".txt", ".model"} and f.stat().st_size < 8 << 20:
            h.update(f.read_bytes())
        elif f.is_symlink() and "blobs" in os.readlink(f):
            h.update(os.path.basename(os.readlink(f)).encode())
        else:
            st = f.stat()
            h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
            with open(f, "rb") as fh:
                h.update(fh.read(1 << 20))
                if st.st_size > 2 << 20:
                    fh.seek(-(1 << 20), os.SEEK_END)
                    h.update(fh.read())
    return h.hexdigest()[:16]


def _component_digest(path: Path) -> str | None:
    """Content digest of one component folder (configs, weight blob names or sizes + first/last MiB)."""
    if not path.is_dir():
        return None
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(f.relative_to(path).as_posix().encode())
        if f.is_symlink() and "blobs" in os.readlink(f):
            h.update(os.path.basename(os.readlink(f)).encode())
        elif f.suffix == ".json":
            h.update(f.read_bytes())
        else:
            size = f.stat().st_size
            h.update(str(size).encode())
            with open(f, "rb") as fh:
                h.update(fh.read(1 << 20))
                if size > 2 << 20:
                    fh.seek(-(1 << 20), os.SEEK_END)
                    h.update(fh.read())
    return h.hexdigest()


def _same_component(a: Path, b: Path) -> bool:
    """True when two pipelines hold the same component (Wan 2.1 T2V and I2V share the UMT5 encoder and
    the VAE; CogVideoX-5b and 5b-I2V their T5 and VAE): then it is loaded once, not twice."""
    da = _component_digest(a)
    return da is not None and da == _component_digest(b)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def grid_from_configs(path: Path, family: str) -> tuple[int, tuple[int, int]]:
    """(size multiple, frame rule) of a saved pipeline, from its VAE and transformer configs.

    The multiple is VAE spatial compression x transformer spatial patch (LTX's
    pipeline also insists on 32); the frame rule is (VAE temporal compression x
    temporal patch) k + 1, so every frame maps to a latent frame.
    """
    vae = _read_json(path / "vae" / "config.json")
    tr = _read_json(path / "transformer" / "config.json") or _read_json(path / "transformer_2" / "config.json")
    if family == "wan":
        spatial, temporal = vae.get("scale_factor_spatial") or 8, vae.get("scale_factor_temporal") or 4
        patch = tr.get("patch_size") or [1, 2, 2]
        return spatial * patch[1], (temporal * patch[0], 1)
    if family == "ltx":
        scaling = vae.get("spatio_temporal_scaling") or [True, True, True, False]
        spatial = vae.get("spatial_compression_ratio") or (vae.get("patch_size") or 4) * 2 ** sum(bool(s) for s in scaling)
        temporal = vae.get("temporal_compression_ratio") or (vae.get("patch_size_t") or 1) * 2 ** sum(bool(s) for s in scaling)
        m = spatial * (tr.get("patch_size") or 1)
        return math.lcm(m, 32), (temporal * (tr.get("patch_size_t") or 1), 1)
    # cogvideox: 2^(levels-1) spatial. The VAE decodes latent frames in pairs after a leading odd one, so
    # an even latent count decodes to 4l frames instead of 4(l-1)+1 (13 asked -> 16 made): the latent count
    # must be odd, which makes the rule 8k+1 (49 = 8*6+1), not the 4k+1 diffusers checks for.
    spatial = 2 ** (len(vae.get("block_out_channels") or [0, 0, 0, 0]) - 1)
    temporal = int(vae.get("temporal_compression_ratio") or 4)
    return spatial * (tr.get("patch_size") or 2), (2 * temporal, 1)


# ----------------------------------------------------------------------------- the adapter


def _device(options: DiffusersOptions) -> str:
    import torch

    if options.device:
        return options.device
    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


def _torch_dtype(name: str):
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[name]


def _to_pil(frames: np.ndarray):
    from PIL import Image

    return [Image.fromarray(np.ascontiguousarray(f)) for f in frames]


class DiffusersModel:
    """A Wan, LTX-Video or CogVideoX pipeline behind storyreel's VideoModel interface."""

    def __init__(self, spec: ModelSpec, options: DiffusersOptions | None = None, *, source: str | None = None) -> None:
        self.spec = spec
        self.name = spec.name
        self.family = spec.family
        self.options = options or DiffusersOptions()
        self.source = source or spec.repo  # what the user named: repo id or directory
        self.device = _device(self.options)
        if self.options.offload != "none" and not self.device.startswith("cuda"):
            raise StoryreelError(
                f"offload={self.options.offload} needs a CUDA GPU (it moves weights between CPU and GPU memory); "
                f"this run is on {self.device}: leave offload at none", field="offload")
        self._pipes: dict[str, object] = {}
        self._offloaded: set[int] = set()
        self._hooked: object | None = None  # the pipeline whose model-offload hooks are live
        self.shared_with_i2v: list[str] = []  # components the image-to-video pipeline reuses
        self.last_call: dict = {}  # the keyword arguments of the last pipeline call (tests, bench)
        self.last_pipeline = None  # and the pipeline it went to

    # --- what the model is ------------------------------------------------------------------

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
        return self.family == "ltx" or self.i2v_ref == self.source or self.i2v_ref == self.spec.repo

    @cached_property
    def _main_path(self) -> Path | None:
        """The main pipeline's local directory if its weights are here (no network, no error)."""
        try:
            return locate_weights(self.source, self.name, allow_download=False).path
        except StoryreelError:
            return None

    @property
    def expand_timesteps(self) -> bool:
        """A Wan 2.2 TI2V pipeline: one set of weights for text- and image-to-video."""
        if self.family != "wan":
            return False
        if self.spec.i2v_repo is not None and self.spec.i2v_repo == self.spec.repo:
            return True
        return bool(_read_json(self._main_path / "model_index.json").get("expand_timesteps")) if self._main_path else False

    @property
    def capabilities(self) -> frozenset[str]:
        return capabilities_of(self.family, self.i2v_ref is not None, self.expand_timesteps)

    @cached_property
    def native(self) -> NativeFormat:
        multiple, rule = self.spec.size_multiple, self.spec.frame_rule
        if self._main_path is not None:
            multiple, rule = grid_from_configs(self._main_path, self.family)
        height, width = self.options.size or (self.spec.height, self.spec.width)
        frames = self.options.frames or self.spec.frames
        fmt = NativeFormat(fps=float(self.spec.fps), frames=frames, height=height, width=width,
                           size_multiple=multiple, frame_rule=rule)
        if height % multiple or width % multiple:
            raise StoryreelError(f"{self.name} generates sizes that are multiples of {multiple}; {width}x{height} is not "
                                 f"(nearest: {_round_to(width, multiple)}x{_round_to(height, multiple)})", field="size")
        if fmt.valid_frames(frames) != frames:
            a, b = rule
            raise StoryreelError(f"{self.name} generates {a}k+{b} frames; {frames} is not (next: {fmt.valid_frames(frames)})", field="frames")
        if self.spec.max_frames and frames > self.spec.max_frames:
            raise StoryreelError(f"{self.name} generates at most {self.spec.max_frames} frames at a time, not {frames}", field="frames")
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
        return _round_to(h, m), _round_to(h * aspect, m)

    def check_available(self) -> dict:
        """Raise StoryreelError unless every pipeline this model will load is here (or downloadable); cheap.

        Returns {"weights": kind, "i2v": kind or None} with kind in local/cache/download.
        """
        main = locate_weights(self.source, self.name)
        index = _read_json(main.path / "model_index.json") if main.path else {}
        cls = index.get("_class_name", "")
        if self.family == "cogvideox" and main.path and _read_json(main.path / "transformer" / "config.json").get("patch_size_t"):
            raise StoryreelError(f"{self.source} is a CogVideoX 1.5 pipeline, which pads and trims frames inside diffusers; "
                                 f"storyreel runs CogVideoX 1.0 (cogvideox-2b, cogvideox-5b)", field="model")
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
        parts = [self.source, _fingerprint(self._local(self.source, "the weights"))]
        if self.i2v_ref is not None and not self.i2v_shared:
            path = self._local(self.i2v_ref, "for continuity the image-to-video weights")
            parts.append(f"i2v={self.i2v_ref}:{_fingerprint(path)}")
        parts.append(json.dumps(self.options.affects_output(), sort_keys=True))
        return f"{self.name}:" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    def identity(self) -> str:
        """Changes whenever the weights (or an option that changes the frames) change; part of cache keys."""
        return self._identity

    # --- requests ---------------------------------------------------------------------------

    def mode_of(self, req: GenerationRequest) -> str:
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
                                 f"(nearest: {_round_to(req.width, m)}x{_round_to(req.height, m)})")
        if req.frames < 1 or fmt.valid_frames(req.frames) != req.frames:
            raise StoryreelError(f"{name} needs {a}k+{b} frames, got {req.frames} (next valid: {fmt.valid_frames(max(req.frames, 1))})")
        if self.spec.max_frames and req.frames > self.spec.max_frames:
            raise StoryreelError(f"{name} makes at most {self.spec.max_frames} frames per generation, got {req.frames}; "
                                 f"longer shots need extension ({'available' if 'extend' in self.capabilities else 'not available for this model'})")
        mode = self.mode_of(req)
        need = {"v2v": "v2v", "connect": "connect", "land": "connect", "i2v": "i2v"}.get(mode)
        if need and need not in self.capabilities:
            hint = " (set i2v_model to an image-to-video pipeline of the same family)" if need == "i2v" else ""
            raise StoryreelError(f"{name} cannot {_MODE_WORDS[mode]}{hint}")
        for label, frames in (("first_frames", req.first_frames), ("last_frames", req.last_frames), ("video", req.video)):
            if frames is not None:
                if frames.ndim != 4 or frames.shape[1:] != (req.height, req.width, 3) or frames.dtype != np.uint8:
                    raise StoryreelError(f"{label} must be uint8 frames of {req.width}x{req.height}, got shape {frames.shape} {frames.dtype}")
                if len(frames) == 0:
                    raise StoryreelError(f"{label} is empty")
        if req.first_frames is not None and len(req.first_frames) >= req.frames:
            raise StoryreelError(f"{len(req.first_frames)} conditioning frames do not leave room in a {req.frames}-frame generation")
        if req.video is not None and len(req.video) != req.frames:
            raise StoryreelError(f"video to restyle has {len(req.video)} frames, request asks for {req.frames}")
        if req.video is not None and not 0.0 < req.strength <= 1.0:
            raise StoryreelError(f"strength must be in (0, 1], got {req.strength}")

    # --- loading ----------------------------------------------------------------------------

    def _dtype_name(self) -> str:
        if self.options.dtype != "auto":
            return self.options.dtype
        return {"cpu": "fp32", "mps": "fp16"}.get(self.device, self.spec.gpu_dtype)

    def _local(self, ref: str, role: str) -> Path:
        """The local directory of `ref`, downloading it first where that is allowed (the hub shows progress)."""
        src = locate_weights(ref, self.name, role)
        if src.path is not None:
            return src.path
        from diffusers import DiffusionPipeline

        try:
            return Path(DiffusionPipeline.download(ref, cache_dir=str(hub_cache_dir())))
        except Exception as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise StoryreelError(f"downloading {ref} failed ({first}); {missing_weights_message(self.name, ref, role)}") from None

    def _load(self, ref: str, cls_name: str, role: str, **shared):
        import warnings

        import diffusers
        import torch

        path = self._local(ref, role)
        cls = getattr(diffusers, cls_name)
        dtype = _torch_dtype(self._dtype_name())
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*torch_dtype.*deprecated", category=FutureWarning)
                if self.family == "wan" and "vae" not in shared and dtype != torch.float32:
                    # the Wan authors run the VAE in float32 (load it so, rather than cast it afterwards)
                    shared["vae"] = diffusers.AutoencoderKLWan.from_pretrained(
                        str(path), subfolder="vae", torch_dtype=torch.float32, local_files_only=True)
                pipe = cls.from_pretrained(str(path), torch_dtype=dtype, local_files_only=True, **shared)
        except StoryreelError:
            raise
        except Exception as e:  # a broken directory, an incompatible diffusers, a failed download
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise StoryreelError(f"could not load {ref} as {cls_name}: {first}") from None
        if getattr(pipe, "image_encoder", None) is not None and self.family == "wan":
            pipe.image_encoder.to(torch.float32)  # Wan 2.1 I2V: CLIP in float32, as its authors run it
        return pipe

    def _prepare(self, pipe):
        """Device placement, offload, VAE tiling and the block cache, once per pipeline."""
        import torch

        pipe.set_progress_bar_config(disable=True)
        _ftfy_passthrough(pipe)
        opts = self.options
        if opts.vae_tiling and getattr(pipe, "vae", None) is not None and hasattr(pipe.vae, "enable_tiling"):
            pipe.vae.enable_tiling()
        if opts.cache == "fbc":
            from diffusers.hooks import FirstBlockCacheConfig

            for comp in ("transformer", "transformer_2"):
                tr = getattr(pipe, comp, None)
                if tr is not None and not getattr(tr, "_storyreel_cache", False):
                    tr.enable_cache(FirstBlockCacheConfig(threshold=opts.cache_threshold))
                    tr._storyreel_cache = True
        if opts.offload == "none":
            target = torch.device(self.device)
            for comp in pipe.components.values():  # shared components are moved once
                if isinstance(comp, torch.nn.Module):
                    param = next(comp.parameters(), None)
                    if param is not None and (param.device.type, param.device.index or 0) != (target.type, target.index or 0):
                        comp.to(target)
        elif opts.offload == "group":
            from diffusers.hooks import apply_group_offloading

            kw = dict(onload_device=torch.device(self.device), offload_device=torch.device("cpu"),
                      offload_type="leaf_level", use_stream=True)
            for _, comp in pipe.components.items():
                if isinstance(comp, torch.nn.Module) and id(comp) not in self._offloaded:
                    if hasattr(comp, "enable_group_offload"):
                        comp.enable_group_offload(**kw)
                    else:
                        apply_group_offloading(module=comp, **kw)
                    self._offloaded.add(id(comp))
        return pipe

    def _activate(self, pipe) -> None:
        """Model/sequential offload hooks belong to one pipeline: move them to the one about to run."""
        if self.options.offload in {"model", "sequential"} and self._hooked is not pipe:
            if self._hooked is not None:
                self._hooked.remove_all_hooks()
            if self.options.offload == "model":
                pipe.enable_model_cpu_offload(device=self.device)
            else:
                pipe.enable_sequential_cpu_offload(device=self.device)
            self._hooked = pipe

    def pipeline(self, role: str):
        """The pipeline for 't2v', 'i2v', 'condition' (LTX) or 'v2v', loaded on first use."""
        if role in self._pipes:
            return self._pipes[role]
        import diffusers

        if role == "t2v":
            self.check_available()
            pipe = self._load(self.source, T2V_CLASS[self.family], "the weights")
        elif role == "i2v" and not self.i2v_shared:
            base = self.pipeline("t2v")
            role_words = "for continuity the image-to-video weights"
            main, other = self._local(self.source, "the weights"), self._local(self.i2v_ref, role_words)
            shared = {k: getattr(base, k) for k in ("tokenizer", "text_encoder", "vae")
                      if getattr(base, k, None) is not None and _same_component(main / k, other / k)}
            pipe = self._load(self.i2v_ref, I2V_CLASS[self.family], role_words, **shared)
            self.shared_with_i2v = sorted(shared)
        else:
            cls = {"i2v": I2V_CLASS, "v2v": V2V_CLASS, "condition": {"ltx": "LTXConditionPipeline"}}[role][self.family]
            pipe = getattr(diffusers, cls).from_pipe(self.pipeline("t2v"))
        self._pipes[role] = self._prepare(pipe)
        return self._pipes[role]

    # --- generation -------------------------------------------------------------------------

    def generate(self, req: GenerationRequest, progress=None) -> Clip:
        import torch

        self.check_request(req)
        mode = self.mode_of(req)
        steps = req.steps or self.options.steps or self.spec.steps
        guidance = req.guidance if req.guidance is not None else (self.options.guidance if self.options.guidance is not None else self.spec.guidance)
        negative = req.negative_prompt or NEGATIVE[self.family]
        call, role, used = self._call_args(req, mode)
        pipe = self.pipeline(role)
        self._activate(pipe)

        def on_step(p, i, t, kw):
            if progress is not None:  # restyling runs only the last `strength` of the steps
                progress(i + 1, getattr(p, "num_timesteps", None) or steps)
            return kw

        common = dict(prompt=req.prompt, negative_prompt=negative or None, height=req.height, width=req.width,
                      num_inference_steps=steps, guidance_scale=guidance, output_type="np",
                      generator=torch.Generator("cpu").manual_seed(int(req.seed) & 0x7FFFFFFFFFFFFFFF),
                      callback_on_step_end=on_step)
        if self.family == "cogvideox":
            common["max_sequence_length"] = pipe.transformer.config.max_text_seq_length
        if self.family == "ltx":
            common["frame_rate"] = int(round(self.native.fps))
            if pipe.vae.config.timestep_conditioning:  # LTX 0.9.1+ VAEs denoise a little while decoding
                common.update(decode_timestep=0.05, decode_noise_scale=0.025)
        kwargs = {**common, **call}
        self.last_call = {"pipeline": type(pipe).__name__, **kwargs}
        self.last_pipeline = pipe
        if self.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        try:
            with torch.inference_mode():
                out = pipe(**kwargs).frames  # (1, T, H, W, 3) float in [0, 1]
        except torch.OutOfMemoryError:
            raise StoryreelError(
                f"{self.name} ran out of GPU memory making {req.frames} frames of {req.width}x{req.height}: try "
                f"offload=model (or group), vae_tiling, fewer frames per generation or a smaller size") from None
        seconds = time.perf_counter() - t0
        video = np.asarray(out[0] if isinstance(out, (list, tuple)) or np.ndim(out) == 5 else out)
        frames = (np.clip(video, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        if frames.shape != (req.frames, req.height, req.width, 3):  # diffusers adapted something: never pass it on
            raise StoryreelError(f"{type(pipe).__name__} returned {frames.shape[0]} frames of {frames.shape[2]}x{frames.shape[1]} "
                                 f"for a request of {req.frames} frames of {req.width}x{req.height}")
        if used and req.first_frames is not None and len(req.first_frames) > used:
            # The model took only the last `used` given frames: the given ones before them lead the clip, so its
            # first len(first_frames) frames still line up with the conditioning frames (models.chain relies on it).
            frames = np.concatenate([req.first_frames[: len(req.first_frames) - used], frames])[: req.frames]
        info = {
            "model": self.name,
            "repo": self.source if mode in {"t2v", "v2v"} or self.i2v_shared else self.i2v_ref,
            "pipeline": type(pipe).__name__,
            "mode": mode,
            "native_size": [req.width, req.height],
            "requested_frames": req.frames,
            "generated_frames": int(video.shape[0]),
            "frames": req.frames,
            "fps": self.native.fps,
            "steps": steps,
            "guidance": guidance,
            "dtype": self._dtype_name(),
            "device": self.device,
            "seconds": round(seconds, 3),
            **req.conditioning_summary(),
        }
        if used:
            info["conditioning_frames_used"] = used
        if self.options.offload != "none":
            info["offload"] = self.options.offload
        if self.options.cache != "none":
            info["cache"] = f"{self.options.cache}:{self.options.cache_threshold}"
        if self.device.startswith("cuda"):
            info["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated() / 2**20)
        return Clip(frames, self.native.fps, req, info)

    def _call_args(self, req: GenerationRequest, mode: str) -> tuple[dict, str, int]:
        """(pipeline keyword arguments, pipeline role, conditioning frames used) for this request's mode."""
        if mode == "t2v":
            return {"num_frames": req.frames}, "t2v", 0
        if mode == "v2v":
            if self.family == "ltx":
                return self._ltx_v2v(req), "condition", 0
            return {"video": _to_pil(req.video), "strength": float(req.strength)}, "v2v", 0
        if self.family == "ltx":
            return self._ltx_condition(req, mode)
        # Wan and CogVideoX image-to-video: one image, the last of the given frames, becomes frame 0
        return {"image": _to_pil(req.first_frames[-1:])[0], "num_frames": req.frames}, "i2v", 1

    def _ltx_condition(self, req: GenerationRequest, mode: str) -> tuple[dict, str, int]:
        """LTX: one first frame -> the image-to-video pipeline; more frames, keyframes or a last frame -> the
        condition pipeline (a video condition must be 8k+1 frames: the last such run of the given frames)."""
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        a = self.native.frame_rule[0]
        if mode == "i2v" and len(req.first_frames) == 1:
            return {"image": _to_pil(req.first_frames)[0], "num_frames": req.frames}, "i2v", 1
        conditions, used = [], 0
        if req.first_frames is not None:
            used = (len(req.first_frames) - 1) // a * a + 1
            clip = _to_pil(req.first_frames[-used:])
            conditions.append(LTXVideoCondition(image=clip[0], frame_index=0) if used == 1 else LTXVideoCondition(video=clip, frame_index=0))
        if req.last_frames is not None:
            # a keyframe lands on the last frame (its index, frames - 1, is a multiple of 8 on the 8k+1 rule)
            conditions.append(LTXVideoCondition(image=_to_pil(req.last_frames[-1:])[0], frame_index=req.frames - 1))
        return {"conditions": conditions, "num_frames": req.frames}, "condition", used

    def _ltx_v2v(self, req: GenerationRequest) -> dict:
        """LTX restyle: the source video's latents, re-noised to `strength`, denoised under the prompt."""
        import torch
        from diffusers.pipelines.ltx.pipeline_ltx_condition import retrieve_latents

        pipe = self.pipeline("condition")
        self._activate(pipe)  # offload hooks must be on this pipeline before its VAE runs
        vae = pipe.vae
        device = next(vae.parameters()).device if self.options.offload == "none" else torch.device(self.device)
        video = pipe.video_processor.preprocess_video(_to_pil(req.video), req.height, req.width)  # (1, C, T, H, W)
        with torch.inference_mode():
            lat = retrieve_latents(vae.encode(video.to(device, dtype=vae.dtype)), sample_mode="argmax")
            lat = pipe._normalize_latents(lat, vae.latents_mean, vae.latents_std).float()
        return {"latents": lat, "denoise_strength": float(req.strength), "num_frames": req.frames}


def capabilities_of(family: str, has_i2v: bool, expand_timesteps: bool = False) -> frozenset[str]:
    """What a pipeline family really supports: LTX conditions on any frames (first, keyframes, video);
    Wan and CogVideoX continue from one image only with an image-to-video pipeline, and restyle videos
    with their video-to-video pipeline (not Wan 2.2 TI2V, whose timestep layout that pipeline lacks)."""
    if family == "ltx":
        return frozenset({"t2v", "i2v", "extend", "connect", "v2v"})
    caps = {"t2v"} | (set() if expand_timesteps else {"v2v"}) | ({"i2v", "extend"} if has_i2v else set())
    return frozenset(caps)


class _NoFtfy:
    """Stands in for ftfy where diffusers calls it unconditionally (Wan I2V / V2V) and it is not installed:
    ftfy only repairs mis-decoded text (mojibake); prompts typed as text pass through unchanged."""

    @staticmethod
    def fix_text(text: str) -> str:
        return text


def _ftfy_passthrough(pipe) -> None:
    import sys

    mod = sys.modules.get(type(pipe).__module__)
    if mod is not None and "ftfy" not in vars(mod):
        try:
            import ftfy  # noqa: F401  (installed: diffusers would have imported it)

            mod.ftfy = ftfy
        except ImportError:
            mod.ftfy = _NoFtfy


def _round_to(x: float, m: int) -> int:
    return max(m, int(round(x / m)) * m)


_MODE_WORDS = {"v2v": "restyle a video (video-to-video)", "connect": "land on a last frame (keyframes)",
               "land": "land on a last frame (keyframes)", "i2v": "start from a given frame (image-to-video)"}


# ----------------------------------------------------------------------------- names -> models


def is_diffusers_ref(name: str) -> bool:
    """True for a table name, a repo id or an existing directory: something open_model can try."""
    return name in MODELS or Path(name).expanduser().is_dir() or _looks_like_repo_id(name)


def open_model(name: str, options: DiffusersOptions | None = None) -> DiffusersModel:
    """The adapter for a table name, a Hugging Face repo id or a directory of a saved pipeline.

    Cheap: reads at most a model_index.json; weights load on the first generate.
    """
    options = options or DiffusersOptions()
    if name in MODELS:
        return DiffusersModel(MODELS[name], options)
    for spec in MODELS.values():  # a repo id of a named model: the name's native format
        if name == spec.repo:
            return DiffusersModel(spec, options, source=name)
    path = Path(name).expanduser()
    if path.is_dir():
        index_path = path / "model_index.json"
        if not index_path.is_file():
            raise StoryreelError(f"{name} is a directory but not a saved diffusers pipeline (no model_index.json)", field="model")
        cls = _read_json(index_path).get("_class_name", "")
        label = path.name
    elif _looks_like_repo_id(name):
        src = locate_weights(name, name)
        cls = _read_json(src.path / "model_index.json").get("_class_name", "") if src.path else ""
        if not cls:  # on the Hub, not cached: its family from its name
            cls = {"wan": "WanPipeline", "ltx": "LTXPipeline", "cogvideo": "CogVideoXPipeline"}.get(
                next((k for k in ("wan", "ltx", "cogvideo") if k in name.lower()), ""), "")
        label = name
    else:
        raise StoryreelError(f"unknown model {name!r}; available: builtin, {', '.join(MODELS)}, "
                             f"a Hugging Face repo id or a directory of a saved diffusers pipeline", field="model")
    fam = family_of(cls)
    if fam is None:
        raise StoryreelError(f"{name} is a {cls or 'unknown'} pipeline; storyreel runs Wan, LTX-Video and CogVideoX pipelines", field="model")
    base = FAMILY_DEFAULTS[fam]
    spec = replace(base, name=label, repo=name, i2v_repo=name if fam == "ltx" else None,
                   fixed_size=False if fam != "cogvideox" else base.fixed_size, authors="")
    return DiffusersModel(spec, options, source=name)


def model_table() -> list[dict]:
    """The named models with their native formats and capabilities (README, `storyreel models`)."""
    rows = []
    for spec in MODELS.values():
        ti2v = spec.family == "wan" and spec.i2v_repo == spec.repo
        rows.append({"name": spec.name, "repo": spec.repo, "i2v_repo": spec.i2v_repo,
                     "size": f"{spec.width}x{spec.height}", "frames": spec.frames, "fps": spec.fps,
                     "grid": f"{spec.size_multiple}, {spec.frame_rule[0]}k+{spec.frame_rule[1]}",
                     "capabilities": sorted(capabilities_of(spec.family, spec.i2v_repo is not None, ti2v)),
                     "authors": spec.authors})
    return rows
