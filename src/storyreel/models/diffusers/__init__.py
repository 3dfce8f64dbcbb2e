"""Open-weight video models through Hugging Face diffusers: Wan 2.1/2.2, Wan VACE, SkyReels-V2 DF, LTX-Video,
LTX-2, HunyuanVideo 1.5, CogVideoX.

- specs: the named models, their repos, native formats and grids;
- options: memory and speed options (a storyboard's `model_options:`, the CLI, the environment);
- weights: finding a pipeline's weights locally or in the hub cache, before any heavy work;
- loading: device, dtype, offload, VAE tiling and block cache, lazily on the first generate;
- adapter: what every family shares behind the VideoModel interface;
- wan, wan_vace, skyreels, ltx, ltx2, hunyuan15, cogvideox: one adapter per family.

This package imports neither torch nor diffusers until a model generates, so
naming a model, planning for it and checking its weights stay fast.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ...errors import StoryreelError
from .adapter import DiffusersModel
from .cogvideox import CogVideoXModel
from .hunyuan15 import HunyuanVideo15Model
from .ltx import LTXModel
from .ltx2 import LTX2Model
from .options import DiffusersOptions
from .specs import FAMILY_DEFAULTS, MODELS, family_of
from .skyreels import SkyReelsModel
from .wan import WanModel
from .wan_vace import WanVACEModel
from .weights import locate_weights, looks_like_repo_id, read_json

FAMILIES: dict[str, type[DiffusersModel]] = {"wan": WanModel, "wan-vace": WanVACEModel, "skyreels": SkyReelsModel,
                                             "ltx": LTXModel, "ltx2": LTX2Model, "hunyuan15": HunyuanVideo15Model,
                                             "cogvideox": CogVideoXModel}
# a repo name -> its pipeline class (a repo on the Hub that is not cached), most specific first
FAMILY_WORDS = {"vace": "WanVACEPipeline", "skyreels-v2-df": "SkyReelsV2DiffusionForcingPipeline", "wan": "WanPipeline",
                "ltx-2": "LTX2Pipeline", "ltx": "LTXPipeline",
                "hunyuanvideo-1.5": "HunyuanVideo15Pipeline", "cogvideo": "CogVideoXPipeline"}

__all__ = ["DiffusersModel", "DiffusersOptions", "FAMILIES", "MODELS", "declared_capabilities", "open_model", "serves"]


def serves(name: str) -> bool:
    """True for a table name, a repo id or an existing directory: something open_model can try."""
    return name in MODELS or Path(name).expanduser().is_dir() or looks_like_repo_id(name)


def open_model(name: str, options: DiffusersOptions | None = None, *, allow_download: bool = True) -> DiffusersModel:
    """The adapter for a table name, a Hugging Face repo id or a directory of a saved pipeline.

    Cheap: reads at most a model_index.json; weights load on the first generate.
    allow_download=False: never ask the Hub (a repo id that is not cached gets its family from its name).
    """
    options = options or DiffusersOptions()
    if name in MODELS:
        spec = MODELS[name]
        return FAMILIES[spec.family](spec, options)
    for spec in MODELS.values():  # a repo id of a named model: the name's native format
        if name == spec.repo:
            return FAMILIES[spec.family](spec, options, source=name)
    cls, label = _pipeline_class(name, allow_download)
    fam = family_of(cls)
    if fam is None:
        raise StoryreelError(f"{name} is a {cls or 'unknown'} pipeline; storyreel runs Wan, Wan VACE, SkyReels-V2 "
                             f"diffusion forcing, LTX-Video, LTX-2, HunyuanVideo 1.5 "
                             f"and CogVideoX pipelines", field="model")
    base = FAMILY_DEFAULTS[fam]
    spec = replace(base, name=label, repo=name, i2v_repo=name if fam in {"ltx", "ltx2", "wan-vace", "skyreels"} else None,
                   fixed_size=False if fam != "cogvideox" else base.fixed_size, authors="")
    return FAMILIES[fam](spec, options, source=name)


def _pipeline_class(name: str, allow_download: bool) -> tuple[str, str]:
    """(diffusers pipeline class name, display name) of a directory or repo id that is not in the table."""
    path = Path(name).expanduser()
    if path.is_dir():
        index_path = path / "model_index.json"
        if not index_path.is_file():
            raise StoryreelError(f"{name} is a directory but not a saved diffusers pipeline (no model_index.json)",
                                 field="model")
        return read_json(index_path).get("_class_name", ""), path.name
    if not looks_like_repo_id(name):
        raise StoryreelError(f"unknown model {name!r}; available: builtin, {', '.join(MODELS)}, "
                             f"a Hugging Face repo id or a directory of a saved diffusers pipeline", field="model")
    try:
        src = locate_weights(name, name, allow_download=allow_download)
        cls = read_json(src.path / "model_index.json").get("_class_name", "") if src.path else ""
    except StoryreelError:
        if allow_download:
            raise
        cls = ""
    if not cls:  # on the Hub, not cached: its family from its name
        cls = FAMILY_WORDS.get(next((k for k in FAMILY_WORDS if k in name.lower()), ""), "")
    return cls, name


def declared_capabilities(name: str, options: DiffusersOptions | None) -> frozenset[str]:
    """What model `name` can do with these options, from its table entry and configs; loads and downloads nothing."""
    return open_model(name, options or DiffusersOptions.from_env(), allow_download=False).capabilities


def open_for_registry(name: str, options: DiffusersOptions | None, device: str | None) -> DiffusersModel:
    """models.registry's way in: environment options when none are given, placed on `device` if named."""
    options = options if options is not None else DiffusersOptions.from_env()
    return open_model(name, replace(options, device=device) if device else options)
