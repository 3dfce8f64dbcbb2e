"""pydantic validation errors -> one plain-words line naming the field (and how many more problems there are)."""

from __future__ import annotations

import difflib
import typing
from typing import Any, Optional

from pydantic import BaseModel, ValidationError

from ..errors import StoryreelError
from .schema import Storyboard
from .source import SourceMap, format_loc, show


def first_error(e: ValidationError, source: SourceMap, file: str) -> StoryreelError:
    """The earliest (by line) pydantic error as a StoryreelError; says how many more there are."""
    errors = e.errors(include_url=False)
    located = sorted(((source.line_of(tuple(err["loc"])) or 0, i) for i, err in enumerate(errors)))
    line, index = located[0]
    err = errors[index]
    loc = tuple(err["loc"])
    message = _describe(err)
    if loc and loc[-1] == "[key]":  # a mapping key of the wrong type, e.g. characters: {1: ...}
        message, loc = f"the key {show(loc[-2])} must be text", loc[:-2]
    if len(errors) > 1:
        more = len(errors) - 1
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return StoryreelError(message, file=file, line=line or None, field=format_loc(loc) or None)


def _describe(err: dict) -> str:
    """A plain-words message for one pydantic error."""
    kind, value, loc = err["type"], err.get("input"), tuple(err["loc"])
    if kind == "extra_forbidden":
        return "unknown key" + _key_hint(loc)
    if kind == "missing":
        return "is required"
    if kind in ("value_error", "assertion_error"):
        return str(err.get("ctx", {}).get("error", err["msg"])).removeprefix("Value error, ")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys, got {show(value)}"
    if kind == "list_type":
        return f"expected a list (lines starting with -), got {show(value)}"
    if kind in ("string_type",):
        hint = " (put it in quotes)" if isinstance(value, (bool, int, float)) else ""
        return f"expected text, got {show(value)}{hint}"
    if kind.startswith("int_") or kind.startswith("float_") or kind.startswith("bool_"):
        want = {"int": "a whole number", "float": "a number", "bool": "true or false"}[kind.split("_")[0]]
        return f"expected {want}, got {show(value)}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{show(value)} is out of range: {err['msg'].lower().removeprefix('input should be ')}"
    if kind in ("too_short", "string_too_short"):
        return "must not be empty"
    return f"{err['msg']} (got {show(value)})"


def _key_hint(loc: tuple) -> str:
    """'; did you mean "length"? (allowed: ...)' for an unknown key at loc."""
    model = _model_at(loc[:-1])
    if model is None:
        return ""
    allowed = list(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    guess = f'; did you mean "{close[0]}"?' if close else ""
    return f"{guess} (allowed: {', '.join(allowed)})"


def _model_at(loc: tuple) -> Optional[type[BaseModel]]:
    """The schema class that validates the mapping at `loc`, following field annotations."""
    current: Any = Storyboard
    for part in loc:
        current = _step(current, part)
        if current is None:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _step(tp: Any, part: str | int) -> Any:
    """The type one location step below `tp`: a model's field, or a list's / dict's item."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(part) if isinstance(part, str) else None
        return _unwrap(field.annotation) if field else None
    if typing.get_origin(tp) in (list, dict):
        return _unwrap(typing.get_args(tp)[-1])
    return None


def _unwrap(tp: Any) -> Any:
    """Optional[X] -> X; anything else unchanged."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) not in (list, dict) and len(args) == 1:
        return args[0]
    return tp
