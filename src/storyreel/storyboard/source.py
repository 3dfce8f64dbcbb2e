"""Where things are in a storyboard file, and how to quote a user's value in a message.

The YAML is composed into PyYAML's node tree, which records where every key
and item starts; a location such as ("shots", 3, "length") is walked down that
tree to the line that holds it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import yaml


def format_loc(loc: tuple[str | int, ...]) -> str:
    """("shots", 3, "length") -> "shots[3].length"."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


class SourceMap:
    """The composed YAML node tree of a storyboard, to find the line of any location in it."""

    def __init__(self, path: Optional[Path], root: Optional[yaml.Node]):
        self.path, self.root = path, root

    def line_of(self, loc: tuple[str | int, ...]) -> Optional[int]:
        """Line of the deepest node on `loc`'s path; a mapping key's own line for keys."""
        node = self.root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in loc:
            child = _child(node, part)
            if child is None:
                break
            key_node, node = child
            line = (key_node or node).start_mark.line + 1
        return line


def _child(node: yaml.Node, part: str | int) -> Optional[tuple[Optional[yaml.Node], yaml.Node]]:
    """(key node or None, value node) for one step of a location."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return key, value
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return None, node.value[part]
    return None



def show(value: object) -> str:
    """A short quoted rendering of a user's value for messages."""
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return json.dumps(text, ensure_ascii=False)
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return f"a {yaml_kind(value)}"


def yaml_kind(value: object) -> str:
    return {dict: "mapping", list: "list", str: "text"}.get(type(value), type(value).__name__)

