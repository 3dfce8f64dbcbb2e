"""The shipped weights: fp16 safetensors inside the package, loaded with no network."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ...fsio import atomic_path, atomic_write
from .autoencoder import AEConfig, FrameAutoencoder
from .dit import DiTConfig, VideoDiT
from .unet import UNetConfig, VideoUNet
from .upsampler import Upsampler, UpsamplerConfig

# v1 (spacetime-patch DiT, 48x80) stays as the `builtin-v1` backend; v2 (layout-guided U-Net + 4x SR) is the
# default `builtin` since it keeps pictures continuous across cuts (handoff.py).
WEIGHTS_V1_DIR = Path(__file__).resolve().parent / "weights-v1"
WEIGHTS_V2_DIR = Path(__file__).resolve().parent / "weights-v2"
WEIGHTS_DIR = WEIGHTS_V2_DIR  # the default model's


class WeightsMissing(RuntimeError):
    """The package has no trained weights (a source checkout before training)."""


def save_weights(ae: FrameAutoencoder, denoiser: VideoDiT | VideoUNet, out_dir: Path, info: dict) -> Path:
    """Both networks as fp16 safetensors plus config.json in `out_dir`, each file written atomically.

    The denoiser is stored under its architecture's name (dit or unet), which is
    how loading knows which one the weights are.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    arch = "unet" if isinstance(denoiser, VideoUNet) else "dit"
    for stale in {"dit", "unet"} - {arch}:
        (out_dir / f"{stale}.safetensors").unlink(missing_ok=True)
    for name, module in (("autoencoder", ae), (arch, denoiser)):
        state = {k: v.detach().to(torch.float16).contiguous() for k, v in module.state_dict().items()}
        with atomic_path(out_dir / f"{name}.safetensors") as tmp:
            save_file(state, str(tmp))
    config = {"ae": asdict(ae.cfg), arch: asdict(denoiser.cfg), **info}
    old = json.loads((out_dir / "config.json").read_text()) if (out_dir / "config.json").exists() else {}
    if "upsampler" in old and (out_dir / "upsampler.safetensors").exists():  # a new base keeps its SR stage
        config.update({k: old[k] for k in ("upsampler", "upsampler_steps") if k in old})
    if "sample_steps" in old and "sample_steps" not in config:  # the sampler steps chosen for these weights
        config["sample_steps"] = old["sample_steps"]
    atomic_write(out_dir / "config.json", json.dumps(config, indent=2) + "\n")
    return out_dir


def read_config(weights_dir: Path) -> dict:
    """The shipped weights' config.json (architecture of both networks, training steps)."""
    path = weights_dir / "config.json"
    if not path.exists():
        raise WeightsMissing(f"no built-in weights in {weights_dir}: run `storyreel train builtin` first")
    return json.loads(path.read_text())


def _load_state(path: Path) -> dict[str, torch.Tensor]:
    return {k: v.float() for k, v in load_file(str(path)).items()}


def load_autoencoder(weights_dir: Path = WEIGHTS_DIR) -> FrameAutoencoder:
    cfg = read_config(weights_dir)["ae"]
    ae = FrameAutoencoder(AEConfig(channels=tuple(cfg["channels"]), latent=cfg["latent"], downsample=cfg["downsample"]))
    ae.load_state_dict(_load_state(weights_dir / "autoencoder.safetensors"))
    return ae.eval()


def load_dit(weights_dir: Path = WEIGHTS_DIR) -> VideoDiT:
    cfg = read_config(weights_dir)["dit"]
    cfg["patch"] = tuple(cfg["patch"])
    dit = VideoDiT(DiTConfig(**cfg))
    dit.load_state_dict(_load_state(weights_dir / "dit.safetensors"))
    return dit.eval()


def load_unet(weights_dir: Path = WEIGHTS_DIR) -> VideoUNet:
    cfg = read_config(weights_dir)["unet"]
    cfg["channels"] = tuple(cfg["channels"])
    unet = VideoUNet(UNetConfig(**cfg))
    unet.load_state_dict(_load_state(weights_dir / "unet.safetensors"))
    return unet.eval()


def save_upsampler(net: Upsampler, out_dir: Path, info: dict) -> Path:
    """The super-resolution stage as fp16 safetensors beside the base model's, its config merged into config.json."""
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in net.state_dict().items()}
    with atomic_path(out_dir / "upsampler.safetensors") as tmp:
        save_file(state, str(tmp))
    config = {**read_config(out_dir), "upsampler": asdict(net.cfg), **info}
    atomic_write(out_dir / "config.json", json.dumps(config, indent=2) + "\n")
    return out_dir


def load_upsampler(weights_dir: Path = WEIGHTS_DIR) -> Upsampler | None:
    """The super-resolution stage, or None where the weights have none."""
    cfg = read_config(weights_dir).get("upsampler")
    if cfg is None or not (weights_dir / "upsampler.safetensors").exists():
        return None
    net = Upsampler(UpsamplerConfig(**cfg))
    net.load_state_dict(_load_state(weights_dir / "upsampler.safetensors"))
    return net.eval()


def load_denoiser(weights_dir: Path = WEIGHTS_DIR) -> VideoDiT | VideoUNet:
    """The denoiser the weights hold: the U-Net (v2) where config.json has one, else the DiT (v1)."""
    return load_unet(weights_dir) if "unet" in read_config(weights_dir) else load_dit(weights_dir)


_WEIGHT_FILES = ("config.json", "autoencoder.safetensors", "dit.safetensors", "unet.safetensors")


def weights_identity(weights_dir: Path = WEIGHTS_DIR) -> str:
    """A short hash of the weight files: part of every cache key, so retrained weights never reuse old takes.

    Hashed once per process and file version (size, mtime): every take's key
    needs it, and re-reading 26 MB per take cost seconds per render.
    """
    stamp = tuple((n, st.st_size, st.st_mtime_ns) for n in _WEIGHT_FILES if (st := _stat(weights_dir / n)) is not None)
    return _hash_files(weights_dir, stamp)


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None


@lru_cache(maxsize=8)
def _hash_files(weights_dir: Path, stamp: tuple) -> str:
    h = hashlib.sha256()
    for name, _, _ in stamp:
        h.update((weights_dir / name).read_bytes())
    return h.hexdigest()[:16]
