"""Backends by name: `model:` in a storyboard or `--model` on the command line.

`builtin` is storyreel's own model. Everything else goes to the diffusers
backends: a name from the table (`wan2.1-t2v-1.3b`, `ltx-video`,
`cogvideox-5b`, ... see models.diffusers_backend.MODELS), a Hugging Face repo
id, or a directory of a saved pipeline. Getting a diffusers model is cheap: the
weights load on its first generation, and `check_available()` says up front
whether they are here.
"""

from __future__ import annotations

from functools import lru_cache

from ..errors import StoryreelError
from .base import VideoModel


def get_model(name: str, options=None) -> VideoModel:
    """The backend called `name` (loaded once per process for the same name and options).

    `options`: a models.diffusers_backend.DiffusersOptions for the diffusers
    backends (dtype, offload, VAE tiling, block cache, ...); None reads them
    from the STORYREEL_* environment variables. The built-in model ignores it.
    """
    if name == "builtin":
        return _builtin()
    from .diffusers_backend import DiffusersOptions, is_diffusers_ref

    if not is_diffusers_ref(name):
        from .diffusers_backend import MODELS

        raise StoryreelError(
            f"unknown model {name!r}; available: builtin, {', '.join(MODELS)}, a Hugging Face repo id "
            f"or a directory of a saved diffusers pipeline", field="model")
    return _diffusers(name, options if options is not None else DiffusersOptions.from_env())


@lru_cache(maxsize=1)
def _builtin() -> VideoModel:
    from .builtin.model import BuiltinModel

    return BuiltinModel()


@lru_cache(maxsize=4)
def _diffusers(name: str, options) -> VideoModel:
    from .diffusers_backend import open_model

    return open_model(name, options)


def cache_clear() -> None:
    """Forget loaded backends (tests; a long-lived process switching models)."""
    _builtin.cache_clear()
    _diffusers.cache_clear()


get_model.cache_clear = cache_clear  # the old lru_cache API, for callers that used it
