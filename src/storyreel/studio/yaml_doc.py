"""The storyboard file as the studio edits it: round-trip YAML, versioned, written atomically.

The file stays the source of truth. Edits are applied to ruamel.yaml's
round-trip tree, so the user's comments, key order, quoting and flow style
survive, and a file nothing was changed in is written back byte for byte.
Every write names the version (a hash of the bytes) it was made against; if
the file changed since (another tab, a text editor), the write is refused
(`Stale`, answered 409) and nothing is written.
"""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..fsio import atomic_write

Loc = list  # a location in the storyboard, e.g. ["shots", 3, "length"] (as Shot.source and errors use)


class Stale(Exception):
    """The file changed since the version an edit was made against (answered 409)."""


def version_of(data: bytes) -> str:
    """The version of a storyboard's bytes: what an edit says it was made against."""
    return hashlib.sha256(data).hexdigest()[:16]


def guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) as ruamel.yaml's indent() takes them, read from how `text` nests its blocks:
    the indentation under a `key:` line of a nested key (mapping) and of a `- ` item (offset; the item's
    content starts two columns later: sequence). One pass over the lines, no parse (edits must be fast)."""
    mapping = offset = None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    for prev, line in zip(lines, lines[1:]):
        if not prev.rstrip().endswith(":") or prev.lstrip().startswith("- "):
            continue
        step = (len(line) - len(line.lstrip())) - (len(prev) - len(prev.lstrip()))
        if line.lstrip().startswith("- "):
            offset = step if offset is None and step >= 0 else offset
        elif mapping is None and step > 0:
            mapping = step
        if mapping is not None and offset is not None:
            break
    offset = 0 if offset is None else offset
    return mapping or 2, offset + 2, offset


def _yaml_for(text: str) -> YAML:
    """A round-trip YAML set up to write the way this text is written (indentation, long lines kept)."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    mapping, sequence, offset = guess_indent(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def round_trip(text: str) -> str:
    """Load and dump `text` unchanged (byte-identical for storyboards as people write them)."""
    yaml = _yaml_for(text)
    return _dump(yaml, yaml.load(text))


def _dump(yaml: YAML, data: Any) -> str:
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


def _node(value: Any) -> Any:
    """A plain value as a round-trip node; small mappings written in flow style ({kind: crossfade, beats: 1})."""
    if isinstance(value, dict):
        m = CommentedMap((k, _node(v)) for k, v in value.items())
        m.fa.set_flow_style()
        return m
    if isinstance(value, list):
        return CommentedSeq(_node(v) for v in value)
    return value


def apply_edits(text: str, edits: list[tuple[Loc, Any]]) -> str:
    """`text` with each (loc, value) set; value None removes the key. A shot written as a plain string
    becomes a mapping (`{prompt: ..., length: ...}`) when a field other than its prompt is set."""
    yaml = _yaml_for(text)
    data = yaml.load(text)
    for loc, value in edits:
        _set(data, list(loc), value)
    return _dump(yaml, data)


def _set(data: Any, loc: Loc, value: Any) -> None:
    if not loc:
        raise KeyError("an edit needs a location")
    parent = data
    for i, key in enumerate(loc[:-1]):
        child = parent[key] if _has(parent, key) else None
        if isinstance(child, str) and isinstance(parent, list):  # a shot in shorthand: "a red circle moves left"
            if value is None:
                return  # nothing to remove from a plain-string shot
            if loc[i + 1:] == ["prompt"]:
                parent[key] = value
                return
            child = CommentedMap([("prompt", child)])
            child.fa.set_flow_style()
            parent[key] = child
        elif child is None:
            if value is None:
                return
            child = CommentedMap()
            parent[key] = child
        parent = child
    last = loc[-1]
    if value is None:
        if isinstance(parent, dict) and last in parent:
            del parent[last]
        return
    if isinstance(parent, list) and isinstance(last, int) and last == len(parent):
        parent.append(_node(value))
    else:
        parent[last] = _node(value)


def _has(parent: Any, key: Any) -> bool:
    if isinstance(parent, dict):
        return key in parent
    return isinstance(key, int) and 0 <= key < len(parent)


class StoryboardDoc:
    """One storyboard file: read with its version, written atomically against a version."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def read(self) -> tuple[str, str]:
        """(text, version) as the file is now."""
        data = self.path.read_bytes()
        return data.decode("utf-8-sig"), version_of(data)

    @property
    def version(self) -> str:
        return version_of(self.path.read_bytes())

    def write(self, text: str, base_version: str) -> str:
        """Write `text` if the file is still at `base_version`; the new version. Stale if it moved on."""
        with self._lock:
            now = self.version
            if now != base_version:
                raise Stale("the storyboard changed since this page loaded it (another tab or an editor); "
                            "your edit was not saved: the page now shows the file as it is, redo the edit")
            data = text.encode("utf-8")
            atomic_write(self.path, data)
            return version_of(data)
