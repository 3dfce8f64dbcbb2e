"""Calls to a provider with retries: 429 and 5xx answers are retried with backoff, honouring the server's hints.

A provider adapter classifies each exception its SDK raises (`Failure`):
retry (rate limit, server error, connection), refused (its content policy:
never retried) or fatal (anything else: reported as it is). Unclassified
exceptions propagate unchanged.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ...errors import StoryreelError

T = TypeVar("T")

ATTEMPTS = 6
CAP_SECONDS = 120.0


@dataclass(frozen=True)
class Failure:
    """How to treat one exception: kind is "retry", "refused" or "fatal"."""

    kind: str
    message: str
    retry_after: float | None = None  # seconds the server asked us to wait


class Refused(StoryreelError):
    """The provider refused the request under its content policy (one line; takes add the shot)."""


def retry_after(headers) -> float | None:
    """Seconds from Retry-After-Ms / Retry-After (seconds or an HTTP date), or None."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, when.timestamp() - time.time()) if when else None


def http_failure(status: int | None, message: str, headers=None) -> Failure:
    """The usual reading of an HTTP status: 408, 409, 429 and 5xx retried, the rest fatal."""
    if status is None or status in {408, 409, 429} or status >= 500:
        return Failure("retry", message, retry_after(headers))
    return Failure("fatal", message)


def with_retries(fn: Callable[[], T], classify: Callable[[BaseException], Failure | None], what: str, *,
                 backoff: float = 2.0, attempts: int = ATTEMPTS, sleep: Callable[[float], None] = time.sleep) -> T:
    """fn(), retried while `classify` says "retry" (waiting the server's hint, else backoff * 2^n, capped)."""
    for attempt in range(attempts):
        try:
            return fn()
        except StoryreelError:
            raise
        except Exception as e:  # noqa: BLE001 - classified below; what is not classified propagates
            failure = classify(e)
            if failure is None:
                raise
            if failure.kind == "refused":
                raise Refused(f"{what}: refused by the provider's content policy ({failure.message})") from None
            if failure.kind == "retry" and attempt < attempts - 1:
                hint = failure.retry_after
                sleep(min(CAP_SECONDS, hint if hint is not None else backoff * 2 ** attempt))
                continue
            tail = f" after {attempts} attempts" if failure.kind == "retry" else ""
            raise StoryreelError(f"{what} failed{tail}: {failure.message}") from None
    raise AssertionError("unreachable")
