"""What a render will generate and what it will cost, before any request: `render` and `plan` print it.

Generations per shot follow models.chain exactly (one, or a chain of
extensions for a shot longer than one generation), times the takes per
shot; each generation is billed for the seconds the backend bills it
(hosted APIs: the shortest documented duration covering it). Prices come
from the editable table (models.hosted.prices); a backend not in it runs
locally and costs nothing but time. Takes already in the cache are counted
as if new: the estimate is an upper bound.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models.base import VideoModel
from ..models.chain import generations_for
from ..models.hosted.prices import load_prices
from ..plan import ShotPlan
from .takes import CHAIN_OVERLAP, native_frames_needed


@dataclass(frozen=True)
class Estimate:
    """Generations, seconds of generated video and dollars (None: a local backend, no charge)."""

    model: str
    generations: int
    seconds: float
    cost: float | None
    price_per_second: float | None = None
    prices_from: str = ""

    def line(self) -> str:
        head = f"{self.generations} generation{'s' if self.generations != 1 else ''}, {self.seconds:.1f} s of video"
        if self.cost is None:
            return f"{head} on {self.model} (runs locally: no charge)"
        return (f"{head}, estimated ${self.cost:.2f} ({self.model} at ${self.price_per_second:.3f}/s, prices from "
                f"{self.prices_from}; takes already cached cost nothing)")

    def to_dict(self) -> dict:
        return {"model": self.model, "generations": self.generations, "seconds": round(self.seconds, 3),
                "cost_usd": None if self.cost is None else round(self.cost, 2)}


def estimate(plan: ShotPlan, model: VideoModel, prices_path=None) -> Estimate:
    """The estimate for rendering every take of every shot of `plan` on `model` (no request is made)."""
    prices, source = load_prices(prices_path)
    extend = "extend" in model.capabilities
    generations, seconds = 0, 0.0
    for i in range(len(plan.shots)):
        n = native_frames_needed(plan, i, model)
        per = min(model.native.frames, n) if extend else n
        pieces = generations_for(n, per, CHAIN_OVERLAP, long="long" in model.capabilities)
        generations += plan.takes * len(pieces)
        seconds += plan.takes * sum(model.billed_seconds(f) for f in pieces)
    price = prices.get(model.name)
    return Estimate(model.name, generations, seconds, None if price is None else price * seconds, price, source)
