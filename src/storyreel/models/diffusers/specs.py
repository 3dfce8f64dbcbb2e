"""The named diffusers models, their families and what each family can do.

`MODELS` maps a storyreel name (`wan2.1-t2v-1.3b`) to its Hugging Face repo,
the repo of the image-to-video pipeline used for continuity (if any) and its
native format. A repo id or the directory of a saved pipeline that is not in
the table gets its family's defaults; the family (Wan, LTX, CogVideoX) comes
from its model_index.json.

The grid: the size multiple and the frame rule come from the pipeline's own
configs (VAE compression x transformer patch, `grid_from_configs`), falling
back to the table when the weights are not here yet: Wan 16 (Wan 2.2 5B: 32)
and 4k+1 frames, LTX 32 and 8k+1, CogVideoX 16 (8x VAE x 2x2 patches) and 8k+1
(its VAE decodes an even number of latent frames to 4l frames, not 4k+1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from .weights import read_json


@dataclass(frozen=True)
class ModelSpec:
    """One named model: where its weights live and what it generates natively."""

    name: str
    family: str  # "wan" | "wan-vace" | "skyreels" | "ltx" | "ltx2" | "hunyuan15" | "cogvideox"
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
    temporal_tile: int | None = None  # LTX-Video: window of its long multi-prompt pipeline (None: no long shots)
    i2v_steps: int | None = None  # steps of a step-distilled image-to-video partner (None: `steps`)


WAN_NEGATIVE = (
    "Bright tones, overexposed, static, blurred details, subtitles, style, works, paintings, images, static, "
    "overall gray, worst quality, low quality, JPEG compression residue, ugly, incomplete, extra fingers, poorly "
    "drawn hands, poorly drawn faces, deformed, disfigured, misshapen limbs, fused fingers, still picture, messy "
    "background, three legs, many people in the background, walking backwards"
)


LTX_NEGATIVE = "worst quality, inconsistent motion, blurry, jittery, distorted"


NEGATIVE = {"wan": WAN_NEGATIVE, "wan-vace": WAN_NEGATIVE, "skyreels": WAN_NEGATIVE, "ltx": LTX_NEGATIVE,
            "ltx2": LTX_NEGATIVE, "hunyuan15": "", "cogvideox": ""}

# Families built on another's VAE and patching: their grid is read from the configs the same way.
GRID_FAMILY = {"wan-vace": "wan", "skyreels": "wan", "ltx2": "ltx"}


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
        ModelSpec("ltx-video-0.9.8-distilled", "ltx", "Lightricks/LTX-Video-0.9.8-13B-distilled",
                  "Lightricks/LTX-Video-0.9.8-13B-distilled", fps=24, frames=121, height=512, width=768,
                  size_multiple=32, frame_rule=(8, 1), max_frames=257, steps=8, guidance=1.0, temporal_tile=80,
                  authors="13B distilled: 8 steps without CFG; long shots by temporal tiling (LTX-Video README)"),
        ModelSpec("ltx2", "ltx2", "Lightricks/LTX-2", "Lightricks/LTX-2", fps=24, frames=121, height=512, width=768,
                  size_multiple=32, frame_rule=(8, 1), max_frames=481, steps=30, guidance=3.0,
                  authors="19B audio-video model: synchronized sound and picture, up to 20 s per generation, "
                          "4K with its upscalers (Lightricks model card)"),
        ModelSpec("hunyuanvideo-1.5-480p", "hunyuan15", "hunyuanvideo-community/HunyuanVideo-1.5-Diffusers-480p_t2v",
                  "hunyuanvideo-community/HunyuanVideo-1.5-Diffusers-480p_i2v_step_distilled", fps=24, frames=121,
                  height=480, width=848, size_multiple=16, frame_rule=(4, 1), max_frames=121, steps=50, guidance=6.0,
                  i2v_steps=8,
                  authors="8.3B parameters; 480p/720p, 121 frames at 24 fps; runs on consumer GPUs with offloading "
                          "(about 14 GB); the step-distilled 480p image-to-video model takes 8 or 12 steps (model card)"),
        ModelSpec("hunyuanvideo-1.5-720p", "hunyuan15", "hunyuanvideo-community/HunyuanVideo-1.5-Diffusers-720p_t2v",
                  "hunyuanvideo-community/HunyuanVideo-1.5-Diffusers-720p_i2v", fps=24, frames=121, height=720,
                  width=1280, size_multiple=16, frame_rule=(4, 1), max_frames=121, steps=50, guidance=6.0,
                  authors="720p, 121 frames at 24 fps (model card)"),
        ModelSpec("wan2.1-vace-1.3b", "wan-vace", "Wan-AI/Wan2.1-VACE-1.3B-diffusers",
                  "Wan-AI/Wan2.1-VACE-1.3B-diffusers", fps=16, frames=81, height=480, width=832,
                  size_multiple=16, frame_rule=(4, 1),
                  authors="480P; reference-to-video, first/last frame and video extension in one model (VACE)"),
        ModelSpec("wan2.1-vace-14b", "wan-vace", "Wan-AI/Wan2.1-VACE-14B-diffusers",
                  "Wan-AI/Wan2.1-VACE-14B-diffusers", fps=16, frames=81, height=720, width=1280,
                  size_multiple=16, frame_rule=(4, 1), authors="480P and 720P (VACE model card)"),
        ModelSpec("skyreels-v2-df-1.3b", "skyreels", "Skywork/SkyReels-V2-DF-1.3B-540P-Diffusers",
                  "Skywork/SkyReels-V2-DF-1.3B-540P-Diffusers", fps=24, frames=97, height=544, width=960,
                  size_multiple=16, frame_rule=(4, 1), guidance=6.0,
                  authors="540P; diffusion forcing makes videos of any length in one generation "
                          "(97-frame windows, 17 frames of history; SkyReels-V2 README)"),
        ModelSpec("skyreels-v2-df-14b", "skyreels", "Skywork/SkyReels-V2-DF-14B-720P-Diffusers",
                  "Skywork/SkyReels-V2-DF-14B-720P-Diffusers", fps=24, frames=121, height=720, width=1280,
                  size_multiple=16, frame_rule=(4, 1), guidance=6.0,
                  authors="720P, 121-frame windows (SkyReels-V2 README)"),
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
    "wan-vace": MODELS["wan2.1-vace-1.3b"],
    "skyreels": MODELS["skyreels-v2-df-1.3b"],
    "ltx2": MODELS["ltx2"],
    "hunyuan15": MODELS["hunyuanvideo-1.5-480p"],
    "ltx": MODELS["ltx-video"],
    "cogvideox": MODELS["cogvideox-5b"],
}


I2V_ONLY_CLASSES = {"WanImageToVideoPipeline", "CogVideoXImageToVideoPipeline", "HunyuanVideo15ImageToVideoPipeline"}


def family_of(class_name: str) -> str | None:
    """'WanPipeline' -> 'wan', 'LTXConditionPipeline' -> 'ltx', 'CogVideoXPipeline' -> 'cogvideox'."""
    for prefix, fam in (("WanVACE", "wan-vace"), ("SkyReelsV2DiffusionForcing", "skyreels"), ("LTX2", "ltx2"),
                        ("HunyuanVideo15", "hunyuan15"),
                        ("Wan", "wan"), ("LTX", "ltx"), ("CogVideoX", "cogvideox")):
        if class_name.startswith(prefix):
            return fam
    return None


def grid_from_configs(path: Path, family: str) -> tuple[int, tuple[int, int]]:
    """(size multiple, frame rule) of a saved pipeline, from its VAE and transformer configs.

    The multiple is VAE spatial compression x transformer spatial patch (LTX's
    pipeline also insists on 32); the frame rule is (VAE temporal compression x
    temporal patch) k + 1, so every frame maps to a latent frame.
    """
    family = GRID_FAMILY.get(family, family)
    vae = read_json(path / "vae" / "config.json")
    tr = read_json(path / "transformer" / "config.json") or read_json(path / "transformer_2" / "config.json")
    if family == "wan":
        spatial, temporal = vae.get("scale_factor_spatial") or 8, vae.get("scale_factor_temporal") or 4
        patch = tr.get("patch_size") or [1, 2, 2]
        return spatial * patch[1], (temporal * patch[0], 1)
    if family == "hunyuan15":
        spatial, temporal = vae.get("spatial_compression_ratio") or 16, vae.get("temporal_compression_ratio") or 4
        return spatial * (tr.get("patch_size") or 1), (temporal * (tr.get("patch_size_t") or 1), 1)
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


def round_to(x: float, m: int) -> int:
    return max(m, int(round(x / m)) * m)
