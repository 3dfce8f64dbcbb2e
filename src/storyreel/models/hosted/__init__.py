"""Hosted video APIs through their official SDKs: Runway, Google Veo, Luma and fal (Kling, Pika, ...).

- base: what every provider shares (keys, sizes, never paying twice, retries, concurrency);
- jobstore: submitted jobs and finished videos on disk in the take cache;
- retry: 429 / 5xx retries honouring the server's hints;
- prices: the editable price table the render estimate reads;
- runway, veo, luma, fal: one adapter per provider, a table of its models.

Sora is not here: OpenAI shut its API down on 2026-09-24.

Nothing here imports an SDK until a model submits, so naming, planning and
estimating stay fast and work without the extra installed.
"""

from __future__ import annotations

from ...errors import StoryreelError
from .base import HostedModel, HostedOptions, HostedSpec
from .fal import SPECS as FAL_SPECS
from .fal import FalModel
from .luma import SPECS as LUMA_SPECS
from .luma import LumaModel
from .runway import SPECS as RUNWAY_SPECS
from .runway import RunwayModel
from .veo import SPECS as VEO_SPECS
from .veo import VeoModel

ADAPTERS: dict[str, type[HostedModel]] = {"runway": RunwayModel, "veo": VeoModel, "luma": LumaModel, "fal": FalModel}
MODELS: dict[str, HostedSpec] = {s.name: s for s in [*RUNWAY_SPECS, *VEO_SPECS, *LUMA_SPECS, *FAL_SPECS]}

__all__ = ["HostedModel", "HostedOptions", "HostedSpec", "MODELS", "open_model", "serves"]


def serves(name: str) -> bool:
    return name in MODELS


def open_model(name: str, options: HostedOptions | None = None, device: str | None = None) -> HostedModel:
    """The adapter for hosted model `name` (cheap: no SDK is imported, no request is made)."""
    if name not in MODELS:
        raise StoryreelError(f"unknown hosted model {name!r}; available: {', '.join(MODELS)}", field="model")
    spec = MODELS[name]
    return ADAPTERS[spec.provider](spec, options)


def declared_capabilities(name: str, options: HostedOptions | None) -> frozenset[str]:
    return MODELS[name].capabilities
