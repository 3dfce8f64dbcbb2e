"""Backends by name: `model:` in a storyboard or `--model` on the command line."""

from __future__ import annotations

from functools import lru_cache

from ..errors import StoryreelError
from .base import VideoModel


@lru_cache(maxsize=4)
def get_model(name: str) -> VideoModel:
    """The backend called `name` (loaded once per process)."""
    if name == "builtin":
        from .builtin.model import BuiltinModel

        return BuiltinModel()
    raise StoryreelError(f"unknown model {name!r}; available: builtin", field="model")
