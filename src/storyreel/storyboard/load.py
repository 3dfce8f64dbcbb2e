"""Reading a storyboard: YAML text -> a validated `Storyboard`, or one line naming file, line and field.

Loading never raises anything but `StoryreelError`, for example::

    storyboard.yaml:14: shots[3].length: "2 barz" is not a length; use "2 bars", "4 beats" or "3.5s"

How line numbers are found: the YAML is composed into PyYAML's node tree
(which records where every key and item starts) and constructed into plain
data from that same tree; pydantic then validates the data, and each of its
error locations (`("shots", 3, "length")`) is walked down the node tree to
the line that holds it (`storyboard.source`).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Optional

import yaml
from pydantic import ValidationError

from ..errors import StoryreelError, StoryreelWarning
from .checks import check_storyboard
from .messages import first_error
from .schema import Storyboard
from .source import SourceMap, yaml_kind

MAX_BYTES = 2_000_000  # a storyboard is a text file a person writes; refuse anything far bigger
MAX_NODES = 200_000  # YAML aliases can expand a small file into a huge tree ("billion laughs")


def load_storyboard(path: str | Path, *, sandbox: bool = False, check_files: bool = True) -> Storyboard:
    """Read and validate a storyboard file.

    sandbox: refuse absolute paths and `..` in `song` and character images
    (for storyboards from untrusted sources). check_files: require the song
    and images to exist.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise StoryreelError("no such storyboard file", file=str(path)) from None
    except IsADirectoryError:
        raise StoryreelError("is a directory; give the storyboard .yaml file", file=str(path)) from None
    except OSError as e:
        raise StoryreelError(f"cannot read the storyboard: {e.strerror or e}", file=str(path)) from None
    if len(data) > MAX_BYTES:
        raise StoryreelError(f"the storyboard is over {MAX_BYTES // 1_000_000} MB; is this the right file?",
                             file=str(path))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise StoryreelError("the storyboard is not UTF-8 text", file=str(path), line=line) from None
    return parse_storyboard(text, path=path, sandbox=sandbox, check_files=check_files)


def parse_storyboard(
    text: str, *, path: Optional[str | Path] = None, sandbox: bool = False, check_files: bool = False
) -> Storyboard:
    """Validate storyboard YAML text; `path` names the file in errors and anchors relative paths."""
    path = Path(path) if path is not None else None
    file = str(path) if path else "<storyboard>"
    root, data = _compose(text, file)
    source = SourceMap(path, root)
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {yaml_kind(data)}"
        raise StoryreelError(f"a storyboard is a mapping of keys (title, song, shots, ...), but this is {kind}",
                             file=file, line=source.line_of(()) or 1)
    try:
        storyboard = Storyboard.model_validate(data)
    except ValidationError as e:
        raise first_error(e, source, file) from None
    except RecursionError:
        raise StoryreelError("the storyboard is nested too deeply", file=file) from None
    storyboard.attach_source(source)
    check_storyboard(storyboard, sandbox=sandbox, check_files=check_files)
    _warn_deprecated(storyboard)
    return storyboard


def _compose(text: str, file: str) -> tuple[Optional[yaml.Node], Any]:
    """Parse YAML into (node tree, plain data), turning parser errors into StoryreelError."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            if root is not None:
                _check_tree(root, file)
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = "; ".join(p for p in (e.context, e.problem) if p) or "malformed YAML"
        raise StoryreelError(f"invalid YAML: {problem}", file=file, line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as e:
        raise StoryreelError(f"invalid YAML: {e}", file=file) from None
    except RecursionError:
        raise StoryreelError("invalid YAML: nested too deeply", file=file) from None
    return root, data


def _check_tree(root: yaml.Node, file: str) -> None:
    """Refuse duplicate keys (YAML would silently keep the last), self-references and alias bombs."""
    sizes: dict[int, int] = {}  # node id -> expanded size (aliases counted every time they are used)
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in active:
            raise StoryreelError("the storyboard refers to itself (a YAML alias inside its own anchor)",
                                 file=file, line=node.start_mark.line + 1)
        active.add(id(node))
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            _check_duplicates(node, file)
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        total = 1 + sum(size(child) for child in children)
        if total > MAX_NODES:
            raise StoryreelError("the storyboard expands to too many items (YAML aliases?)", file=file)
        active.discard(id(node))
        sizes[id(node)] = total
        return total

    size(root)


def _check_duplicates(node: yaml.MappingNode, file: str) -> None:
    keys: dict[str, yaml.Node] = {}
    for key, _ in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value != "<<":
            if key.value in keys:
                first = keys[key.value].start_mark.line + 1
                raise StoryreelError(f'duplicate key "{key.value}" (first on line {first})',
                                     file=file, line=key.start_mark.line + 1)
            keys[key.value] = key


def _warn_deprecated(sb: Storyboard) -> None:
    """One line for each old key the storyboard still uses (it keeps working)."""
    if sb.diffusers is not None:
        where = f"{sb.path}:{sb.line_of(('diffusers',))}: " if sb.path else ""
        warnings.warn(f"{where}diffusers: is deprecated; write model_options: (the same keys)", StoryreelWarning,
                      stacklevel=3)
