"""The price table: US dollars per second of generated video, per hosted model, editable by the user.

The table shipped with storyreel (prices.toml beside this module) is read
unless a file is given (`render --prices FILE`) or named by $STORYREEL_PRICES;
a user's file is laid over the shipped one, so it may name only the models
whose prices it changes.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from ...errors import StoryreelError

ENV = "STORYREEL_PRICES"
SHIPPED = Path(__file__).with_name("prices.toml")


def _read(path: Path) -> dict[str, float]:
    try:
        data = tomllib.loads(path.read_text())
    except OSError as e:
        raise StoryreelError(f"cannot read the price table ({e.strerror or e})", file=str(path), field="--prices") from None
    except tomllib.TOMLDecodeError as e:
        raise StoryreelError(f"invalid TOML: {e}", file=str(path), field="--prices") from None
    out = {}
    for name, value in data.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise StoryreelError(f"{name} must be a price in dollars per second (a number >= 0), got {value!r}",
                                 file=str(path), field=name)
        out[name] = float(value)
    return out


def load_prices(path: str | os.PathLike | None = None) -> tuple[dict[str, float], str]:
    """(model name -> dollars per second, where the table came from)."""
    prices = _read(SHIPPED)
    path = path or os.environ.get(ENV) or None
    if path is None:
        return prices, "storyreel's table"
    return {**prices, **_read(Path(path))}, str(path)
