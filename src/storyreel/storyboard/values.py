"""The values written inside a storyboard: lengths ("2 bars"), sizes ("1280x720") and `{name}` references."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .source import show

LENGTH_HINT = 'use "2 bars", "4 beats" or "3.5s"'


_LENGTH_RE = re.compile(
    r"^\s*(?P<n>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>bars?|beats?|s|secs?|seconds?)\s*$", re.IGNORECASE
)


@dataclass(frozen=True)
class Length:
    """A shot length as written: a positive amount of bars, beats or seconds."""

    value: float
    unit: Literal["bars", "beats", "seconds"]

    def __str__(self) -> str:
        n = f"{self.value:g}"
        if self.unit == "seconds":
            return f"{n}s"
        singular = self.value == 1
        return f"{n} {self.unit[:-1] if singular else self.unit}"


def parse_length(text: object) -> Length:
    """Parse "2 bars", "1 bar", "4 beats", "3.5s", "3.5 seconds"; raise ValueError with a hint otherwise."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ValueError(f"expected a length such as \"2 bars\"; {LENGTH_HINT}")
    if isinstance(text, (int, float)):
        raise ValueError(f'{text} has no unit; {LENGTH_HINT}')
    m = _LENGTH_RE.match(text)
    if not m:
        raise ValueError(f"{show(text)} is not a length; {LENGTH_HINT}")
    value = float(m["n"])
    if not 0 < value < 1e6:
        raise ValueError(f"{show(text.strip())}: a length must be more than zero")
    unit = m["unit"].lower()
    canonical = "bars" if unit.startswith("bar") else "beats" if unit.startswith("beat") else "seconds"
    return Length(value, canonical)  # type: ignore[arg-type]


_REF_RE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # a character name, written {name} in prompts


def referenced_names(text: str) -> list[str]:
    """The `{name}` references in `text`, in order (`{{` and `}}` are literal braces)."""
    return [m.group(1).strip() for m in _REF_RE.finditer(text) if m.group(1) is not None]


def substitute(text: str, values: dict[str, str]) -> str:
    """Replace each `{name}` with values[name]; `{{`/`}}` become literal braces. KeyError if undefined."""

    def repl(m: re.Match[str]) -> str:
        if m.group(0) == "{{":
            return "{"
        if m.group(0) == "}}":
            return "}"
        return values[m.group(1).strip()]

    return _REF_RE.sub(repl, text)


def parse_size(value: object) -> tuple[int, int]:
    """"1280x720" -> (1280, 720); both even, 16..8192; ValueError otherwise."""
    m = re.match(r"^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$", value) if isinstance(value, str) else None
    if not m:
        raise ValueError(f'{show(value)} is not a size; write WIDTHxHEIGHT, e.g. "1280x720"')
    w, h = int(m[1]), int(m[2])
    if w % 2 or h % 2:
        raise ValueError(f'"{value}": width and height must be even numbers (video encoders need it)')
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise ValueError(f'"{value}": width and height must be between 16 and 8192')
    return w, h
