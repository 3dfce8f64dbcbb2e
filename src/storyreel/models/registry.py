"""Backends by name: `model:` in a storyboard or `--model` on the command line.

A backend family is one `Backend` entry: which names it serves, what those
models can do (declared without loading anything, so planning knows it), how
its options are read from a storyboard's `model_options:` and the CLI, and how
to open one. `builtin` is storyreel's own model; the diffusers entry serves a
name from its table (`wan2.1-t2v-1.3b`, `ltx-video`, `cogvideox-5b`, ... see
models.diffusers.specs), a Hugging Face repo id, or a directory of a saved
pipeline. Opening is cheap: weights load on the first generation, and
`check_available()` says up front whether they are here. The hosted entry
serves the models of models.hosted (runway-gen4.5, ...): API calls, no weights.

Another family (hosted APIs, a new open model) is one more entry:
`register(Backend(...))`; entries registered later are asked first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..errors import StoryreelError
from . import diffusers as diffusers_family
from . import hosted as hosted_family
from .base import VideoModel, VideoModelBase
from .builtin.spec import BUILTIN_CAPABILITIES


@dataclass(frozen=True)
class Backend:
    """One family of backends in the registry."""

    family: str
    serves: Callable[[str], bool]  # does this entry open `model:` value `name`?
    capabilities: Callable[[str, Any], frozenset[str]]  # (name, options) -> what it can do; loads nothing
    parse_options: Callable[[dict], Any]  # a model_options mapping -> the options `open` takes (StoryreelError)
    open: Callable[[str, Any, "str | None"], VideoModel]  # (name, options, device) -> the backend
    names: Callable[[], list[str]]  # the names it offers, for messages


def _open_builtin(name: str, options: Any, device: str | None) -> VideoModel:
    from .builtin.model import BuiltinModel  # deferred: torch takes seconds to import; planning needs none of it
    from .builtin.weights import WEIGHTS_V1_DIR  # deferred: with the model

    return BuiltinModel(WEIGHTS_V1_DIR) if name == "builtin-v1" else BuiltinModel()


BUILTIN = Backend(
    family="builtin",
    serves=lambda name: name in ("builtin", "builtin-v1", "builtin-v2"),  # builtin-v2: the default's earlier name
    capabilities=lambda name, options: BUILTIN_CAPABILITIES,
    parse_options=lambda mapping: None,  # the built-in model has no options: storyboards may carry others' options
    open=_open_builtin,
    names=lambda: ["builtin", "builtin-v1"],
)

DIFFUSERS = Backend(
    family="diffusers",
    serves=diffusers_family.serves,
    capabilities=diffusers_family.declared_capabilities,
    parse_options=lambda mapping: diffusers_family.DiffusersOptions.from_mapping(mapping) if mapping else None,
    open=diffusers_family.open_for_registry,
    names=lambda: list(diffusers_family.MODELS),
)

HOSTED = Backend(
    family="hosted",
    serves=hosted_family.serves,
    capabilities=hosted_family.declared_capabilities,
    parse_options=lambda mapping: hosted_family.HostedOptions.from_mapping(mapping) if mapping else None,
    open=hosted_family.open_model,
    names=lambda: list(hosted_family.MODELS),
)

BACKENDS: list[Backend] = [HOSTED, BUILTIN, DIFFUSERS]


def register(entry: Backend) -> None:
    """Add a backend family; it is asked before the ones already registered."""
    BACKENDS.insert(0, entry)


def entry_for(name: str) -> Backend:
    """The entry serving `name`, or a StoryreelError listing what is available."""
    for entry in BACKENDS:
        if entry.serves(name):
            return entry
    names = [n for entry in BACKENDS for n in entry.names()]
    raise StoryreelError(
        f"unknown model {name!r}; available: {', '.join(names)}, a Hugging Face repo id "
        f"or a directory of a saved diffusers pipeline", field="model")


def parse_options(name: str, mapping: dict | None) -> Any:
    """Backend `name`'s options from a mapping (storyboard `model_options:`, CLI flags); None when empty."""
    return entry_for(name).parse_options(dict(mapping or {}))


def capabilities(name: str, options: Any = None) -> frozenset[str]:
    """What backend `name` declares it can do ("i2v", "extend", ...), without loading a model."""
    return entry_for(name).capabilities(name, options)


def get_model(name: str, options: Any = None, *, device: str | None = None) -> VideoModel:
    """The backend called `name` (opened once per process for the same name, options and device).

    options: what `parse_options` returned (None: the backend's defaults; the
    diffusers backends then read STORYREEL_* environment variables). device:
    place it there (one instance per GPU worker); None: the backend's choice.
    """
    return _opened(entry_for(name), name, options, device)


@lru_cache(maxsize=8)
def _opened(entry: Backend, name: str, options: Any, device: str | None) -> VideoModel:
    return entry.open(name, options, device)


def prompt_reader(name: str):
    """Backend `name`'s VideoModel.reading (what it will draw, for a model with its own planner), or None when
    it reads prompts as written or cannot be opened here: `plan` and the studio still show the plan, and
    generating says what is missing. Asked on every re-plan of the studio, so a backend without a planner
    of its own is never checked (a diffusers check may ask the hub)."""
    try:
        backend = get_model(name)
        if type(backend).reading is VideoModelBase.reading:
            return None
        backend.check_available()
        has_planner = backend.reading("a red circle") is not None  # builtin-v1 reads prompts itself
    except StoryreelError:
        return None
    return backend.reading if has_planner else None


def cache_clear() -> None:
    """Forget opened backends (a long-lived process switching models, to free their memory)."""
    _opened.cache_clear()
