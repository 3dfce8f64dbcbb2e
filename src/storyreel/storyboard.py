"""The storyboard: a YAML file that says what the video shows, validated with line-numbered errors.

A storyboard names the song, the look (style, characters, camera, transitions)
and the story, either as a list of `shots` or as `sections` attached to the
song's own sections. Loading it never raises anything but `StoryreelError`,
whose message names the file, the line and the field, for example::

    storyboard.yaml:14: shots[3].length: "2 barz" is not a length; use "2 bars", "4 beats" or "3.5s"

How line numbers are found: the YAML is composed into PyYAML's node tree
(which records where every key and item starts) and constructed into plain
data from that same tree; pydantic then validates the data, and each of its
error locations (`("shots", 3, "length")`) is walked down the node tree to
the line that holds it. The `Storyboard` keeps that tree, so later stages
(the planner) can raise errors that point at the storyboard too.

Schema (every mapping rejects unknown keys):

    title: text                       # default: the file name
    song: path | demo                 # relative to this file; `demo` = the bundled demo song
    model: builtin                    # which text-to-video model renders the shots
    seed: 0                           # base seed; each shot's seed derives from it
    takes: 1                          # generations per shot to choose from
    output: {size: 1280x720, fps: 24} # even width and height
    style: text                       # added to every prompt
    negative: text                    # negative prompt
    characters: {name: description | {description, image}}   # used as {name} in prompts
    camera: zoom_in | {move, amount, easing, continuous, intensity}
    pacing: auto | slow | normal | fast
    transition: cut | crossfade | zoom_through | {kind, beats}
    timeline: [{at: 0..1 | section, era: text}, ...]   # the look changes over the song
    grade: true | {match: previous | reference, strength: 0..1, ramp, reference: image}   # colour continuity
    shots: [prompt | {prompt, length, camera, transition, seed}, ...]
    sections: [{section, era, camera, bars, shots: [...]}, ...]   # instead of `shots`
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import typing
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from storyreel.errors import StoryreelError

DEMO_SONG = "demo"
CAMERA_MOVES = ("static", "zoom_in", "zoom_out", "pan_left", "pan_right", "tilt_up", "tilt_down", "dolly_zoom", "shake")
EASINGS = ("linear", "ease_in", "ease_out", "ease_in_out")
TRANSITIONS = ("cut", "crossfade", "zoom_through")
PACINGS = ("auto", "slow", "normal", "fast")
GRADE_MATCHES = ("previous", "reference")
LENGTH_HINT = 'use "2 bars", "4 beats" or "3.5s"'
MAX_BYTES = 2_000_000  # a storyboard is a text file a person writes; refuse anything far bigger
MAX_NODES = 200_000  # YAML aliases can expand a small file into a huge tree ("billion laughs")

# Lengths -------------------------------------------------------------------------

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
        raise ValueError(f'"{text}" is not a length; {LENGTH_HINT}')
    value = float(m["n"])
    if not 0 < value < 1e6:
        raise ValueError(f'"{text}": a length must be more than zero')
    unit = m["unit"].lower()
    canonical = "bars" if unit.startswith("bar") else "beats" if unit.startswith("beat") else "seconds"
    return Length(value, canonical)  # type: ignore[arg-type]


# Character references ----------------------------------------------------------------

_REF_RE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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


# Schema ---------------------------------------------------------------------------


class _Strict(BaseModel):
    """Base for every storyboard mapping: unknown keys are errors, text is stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _keyword(value: object) -> object:
    """Normalise a keyword as people type it: "Zoom In" and "zoom-in" mean zoom_in."""
    if isinstance(value, str):
        return re.sub(r"[\s-]+", "_", value.strip().lower())
    return value


def _one_of(value: object, allowed: tuple[str, ...], what: str) -> str:
    value = _keyword(value)
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{_show(value)} is not a {what}; use one of: {', '.join(allowed)}")
    return value


class CameraSpec(_Strict):
    """A camera move as written; fields left out are inherited (shot <- section <- storyboard default)."""

    move: str = "static"
    amount: float = Field(0.1, ge=0.0, le=4.0)
    easing: str = "linear"
    continuous: bool = False
    intensity: float = Field(0.0, ge=0.0, le=4.0)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):  # camera: zoom_in
            return {"move": _one_of(data, CAMERA_MOVES, "camera move")}
        return data

    @field_validator("move", mode="before")
    @classmethod
    def _move(cls, v: object) -> str:
        return _one_of(v, CAMERA_MOVES, "camera move")

    @field_validator("easing", mode="before")
    @classmethod
    def _easing(cls, v: object) -> str:
        return _one_of(v, EASINGS, "camera easing")


class TransitionSpec(_Strict):
    """How a shot begins; `beats` defaults to 0 for a cut and 1 otherwise."""

    kind: str = "cut"
    beats: Optional[float] = Field(None, ge=0.0, le=32.0)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):  # transition: crossfade
            return {"kind": _one_of(data, TRANSITIONS, "transition")}
        return data

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, v: object) -> str:
        return _one_of(v, TRANSITIONS, "transition")

    @property
    def length_beats(self) -> float:
        if self.kind == "cut":
            return 0.0
        return 1.0 if self.beats is None else self.beats


class CharacterSpec(_Strict):
    """A character: the words substituted for `{name}`, and an optional reference image."""

    description: str = Field(min_length=1)
    image: Optional[str] = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"description": data} if isinstance(data, str) else data


class OutputSpec(_Strict):
    """Output video format."""

    size: str = "1280x720"
    fps: int = Field(24, ge=1, le=120)

    @field_validator("size", mode="before")
    @classmethod
    def _size(cls, v: object) -> str:
        w, h = parse_size(v)
        return f"{w}x{h}"

    @property
    def width(self) -> int:
        return parse_size(self.size)[0]

    @property
    def height(self) -> int:
        return parse_size(self.size)[1]


def parse_size(value: object) -> tuple[int, int]:
    """"1280x720" -> (1280, 720); both even, 16..8192; ValueError otherwise."""
    m = re.match(r"^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$", value) if isinstance(value, str) else None
    if not m:
        raise ValueError(f'{_show(value)} is not a size; write WIDTHxHEIGHT, e.g. "1280x720"')
    w, h = int(m[1]), int(m[2])
    if w % 2 or h % 2:
        raise ValueError(f'"{value}": width and height must be even numbers (video encoders need it)')
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise ValueError(f'"{value}": width and height must be between 16 and 8192')
    return w, h


class ShotSpec(_Strict):
    """One shot as written: a prompt, and optionally its length, camera, transition and seed."""

    prompt: str = Field(min_length=1)
    length: Optional[str] = None
    camera: Optional[CameraSpec] = None
    transition: Optional[TransitionSpec] = None
    seed: Optional[int] = Field(None, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"prompt": data} if isinstance(data, str) else data

    @field_validator("length", mode="before")
    @classmethod
    def _length(cls, v: object) -> Optional[str]:
        return None if v is None else str(parse_length(v))

    @property
    def parsed_length(self) -> Optional[Length]:
        return None if self.length is None else parse_length(self.length)


def _section_ref(v: object) -> object:
    """A song section reference: a 1-based number, or a label/name."""
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, str)):
        raise ValueError(f"{_show(v)} is not a section; use a number (1 = first), a label like A, "
                         "or a name like chorus")
    if isinstance(v, int) and v < 1:
        raise ValueError(f"{v} is not a section number; the first section is 1")
    if isinstance(v, str) and not v.strip():
        raise ValueError("empty section name")
    return v.strip() if isinstance(v, str) else v


class SectionSpec(_Strict):
    """Story beats attached to one of the song's sections; the planner divides its bars among the shots."""

    section: Optional[int | str] = None  # 1-based index, label ("A") or name ("chorus"); default: by order
    era: Optional[str] = None  # replaces the timeline's era for these shots
    camera: Optional[CameraSpec] = None
    bars: Optional[int] = Field(None, ge=1, le=10_000)  # length it was written for; used if sections don't match
    shots: list[ShotSpec] = Field(min_length=1)

    @field_validator("section", mode="before")
    @classmethod
    def _section(cls, v: object) -> object:
        return _section_ref(v)


class TimelineKey(_Strict):
    """A keyframe of the look: at a fraction of the song (0..1) or at the start of a section."""

    at: float | str
    era: str

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, v: object) -> float | str:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if not 0.0 <= float(v) <= 1.0:
                raise ValueError(f"{v} is outside 0..1; `at` is a fraction of the song, or a section")
            return float(v)
        if isinstance(v, str) and v.strip():
            return v.strip()
        raise ValueError(f"{_show(v)} is not a position; use a fraction of the song (0.5) or a section (chorus, B, 3)")


class GradeSpec(_Strict):
    """Colour continuity (storyreel.grade): `grade: true` or a mapping; `grade: false` is off."""

    match: str = "previous"  # previous: the previous shot's last frame; reference: the `reference` image
    strength: float = Field(1.0, ge=0.0, le=1.0)  # how far the first frame moves towards the target, 0..1
    ramp: Optional[bool] = None  # ease the grade out over the shot; default: yes for previous, no for reference
    reference: Optional[str] = None  # image to match, relative to the storyboard (match: reference)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if data is True:  # grade: true
            return {}
        if isinstance(data, str):  # grade: previous
            return {"match": _one_of(data, GRADE_MATCHES, "grade")}
        return data

    @field_validator("match", mode="before")
    @classmethod
    def _match(cls, v: object) -> str:
        return _one_of(v, GRADE_MATCHES, "grade match")


class Storyboard(_Strict):
    """A validated storyboard. Build it with `load_storyboard` to get file/line-aware errors."""

    title: str = ""
    song: str = Field(min_length=1)
    model: str = Field("builtin", min_length=1)
    seed: int = Field(0, ge=0)
    takes: int = Field(1, ge=1, le=1000)
    output: OutputSpec = Field(default_factory=OutputSpec)
    style: str = ""
    negative: str = ""
    characters: dict[str, CharacterSpec] = Field(default_factory=dict)
    camera: CameraSpec = Field(default_factory=CameraSpec)
    pacing: str = "auto"
    transition: TransitionSpec = Field(default_factory=TransitionSpec)
    timeline: list[TimelineKey] = Field(default_factory=list)
    grade: Optional[GradeSpec] = None
    shots: Optional[list[ShotSpec]] = None
    sections: Optional[list[SectionSpec]] = None
    beats_per_bar: Optional[int] = Field(None, ge=2, le=12)  # force the meter (3 for 3/4, 6 for 6/8); None detects
    diffusers: Optional[dict[str, Any]] = None  # memory/speed options for diffusers backends (models.diffusers_backend)

    _source: Optional["SourceMap"] = PrivateAttr(None)

    @field_validator("pacing", mode="before")
    @classmethod
    def _pacing(cls, v: object) -> str:
        return _one_of(v, PACINGS, "pacing")

    @field_validator("grade", mode="before")
    @classmethod
    def _grade_off(cls, v: object) -> object:
        return None if v is False else v  # grade: false

    # Locations -------------------------------------------------------------------

    @property
    def path(self) -> Optional[Path]:
        """The storyboard file this was loaded from, if any."""
        return self._source.path if self._source else None

    def line_of(self, loc: tuple[str | int, ...]) -> Optional[int]:
        """The 1-based line of `loc` (e.g. ("shots", 3, "length")) in the file, if known."""
        return self._source.line_of(loc) if self._source else None

    def error(self, loc: tuple[str | int, ...], message: str) -> StoryreelError:
        """A StoryreelError pointing at `loc` in this storyboard's file (for callers to raise)."""
        file = str(self._source.path) if self._source and self._source.path else None
        return StoryreelError(message, file=file, line=self.line_of(loc), field=format_loc(loc) or None)

    # Paths ----------------------------------------------------------------------

    @property
    def base_dir(self) -> Path:
        """Directory that relative paths (song, images) are resolved against."""
        return self.path.parent if self.path else Path.cwd()

    @property
    def is_demo_song(self) -> bool:
        return self.song == DEMO_SONG

    def resolve_song_path(self) -> Optional[Path]:
        """Absolute path of the song, or None for `song: demo` (the caller makes the bundled demo song)."""
        return None if self.is_demo_song else (self.base_dir / self.song).resolve()

    def resolve_grade_reference(self) -> Optional[Path]:
        """Absolute path of the colour grade's reference image, if it has one."""
        image = self.grade.reference if self.grade else None
        return (self.base_dir / image).resolve() if image else None

    def resolve_image(self, name: str) -> Optional[Path]:
        """Absolute path of character `name`'s reference image, if it has one."""
        image = self.characters[name].image
        return (self.base_dir / image).resolve() if image else None

    # Content --------------------------------------------------------------------

    @property
    def display_title(self) -> str:
        """The title, else a name from the file: its folder's for storyboard.yaml, else its stem."""
        if self.title:
            return self.title
        if self.path is None:
            return "untitled"
        return (self.path.parent.name if self.path.stem == "storyboard" else self.path.stem) or "untitled"

    def character_text(self) -> dict[str, str]:
        """name -> description, for substituting `{name}` in prompts."""
        return {name: c.description for name, c in self.characters.items()}


def storyboard_hash(storyboard: Storyboard) -> str:
    """A short content hash of the storyboard's meaning (not its formatting or comments)."""
    canonical = json.dumps(storyboard.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


# Source map: loc -> line --------------------------------------------------------------


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


# Loading --------------------------------------------------------------------------


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
        kind = "empty" if data is None else f"a {_yaml_kind(data)}"
        raise StoryreelError(f"a storyboard is a mapping of keys (title, song, shots, ...), but this is {kind}",
                             file=file, line=source.line_of(()) or 1)
    try:
        storyboard = Storyboard.model_validate(data)
    except ValidationError as e:
        raise _first_error(e, source, file) from None
    except RecursionError:
        raise StoryreelError("the storyboard is nested too deeply", file=file) from None
    storyboard._source = source
    _check(storyboard, sandbox=sandbox, check_files=check_files)
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


# Validation errors -> one line ----------------------------------------------------------


def _first_error(e: ValidationError, source: SourceMap, file: str) -> StoryreelError:
    """The earliest (by line) pydantic error as a StoryreelError; says how many more there are."""
    errors = e.errors(include_url=False)
    located = sorted(((source.line_of(tuple(err["loc"])) or 0, i) for i, err in enumerate(errors)))
    line, index = located[0]
    err = errors[index]
    loc = tuple(err["loc"])
    message = _describe(err)
    if loc and loc[-1] == "[key]":  # a mapping key of the wrong type, e.g. characters: {1: ...}
        message, loc = f"the key {_show(loc[-2])} must be text", loc[:-2]
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
        return f"expected a mapping of keys, got {_show(value)}"
    if kind == "list_type":
        return f"expected a list (lines starting with -), got {_show(value)}"
    if kind in ("string_type",):
        hint = " (put it in quotes)" if isinstance(value, (bool, int, float)) else ""
        return f"expected text, got {_show(value)}{hint}"
    if kind.startswith("int_") or kind.startswith("float_") or kind.startswith("bool_"):
        want = {"int": "a whole number", "float": "a number", "bool": "true or false"}[kind.split("_")[0]]
        return f"expected {want}, got {_show(value)}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{_show(value)} is out of range: {err['msg'].lower().removeprefix('input should be ')}"
    if kind in ("too_short", "string_too_short"):
        return "must not be empty"
    return f"{err['msg']} (got {_show(value)})"


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


def _show(value: object) -> str:
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
    return f"a {_yaml_kind(value)}"


def _yaml_kind(value: object) -> str:
    return {dict: "mapping", list: "list", str: "text"}.get(type(value), type(value).__name__)


# Checks beyond the schema -----------------------------------------------------------


def _check(sb: Storyboard, *, sandbox: bool, check_files: bool) -> None:
    """Whole-storyboard rules: shots xor sections, names, references, paths."""
    if sb.shots is not None and sb.sections is not None:
        raise sb.error(("sections",), "use either `shots` or `sections`, not both")
    if sb.shots is None and sb.sections is None:
        for key in ("shots", "sections"):
            if key in sb.model_fields_set:  # written but left empty (`shots:` with nothing under it)
                raise sb.error((key,), f"`{key}` is empty")
        raise sb.error((), "the storyboard has no story: add `shots` (a list of prompts) or `sections`")
    if sb.shots is not None and not sb.shots:
        raise sb.error(("shots",), "the list of shots is empty")
    if sb.sections is not None and not sb.sections:
        raise sb.error(("sections",), "the list of sections is empty")
    _check_names(sb)
    _check_references(sb)
    _check_path(sb, ("song",), None if sb.is_demo_song else sb.song, sandbox, check_files, "song")
    for name, c in sb.characters.items():
        _check_path(sb, ("characters", name, "image"), c.image, sandbox, check_files, "image")
    if sb.grade is not None:
        if sb.grade.match == "reference" and not sb.grade.reference:
            raise sb.error(("grade",), "`match: reference` needs a `reference:` image to match")
        if sb.grade.match != "reference" and sb.grade.reference:
            raise sb.error(("grade", "reference"), "a reference image is only used with `match: reference`")
        _check_path(sb, ("grade", "reference"), sb.grade.reference, sandbox, check_files, "image")


def _check_names(sb: Storyboard) -> None:
    for name in sb.characters:
        if not NAME_RE.match(name):
            raise sb.error(("characters", name),
                           f'"{name}" is not a usable name; use letters, digits and _ (it is written {{{name}}} in prompts)')


def _texts(sb: Storyboard) -> list[tuple[tuple[str | int, ...], str]]:
    """Every text that may reference characters, with its location."""
    out: list[tuple[tuple[str | int, ...], str]] = [(("style",), sb.style), (("negative",), sb.negative)]
    out += [(("timeline", i, "era"), k.era) for i, k in enumerate(sb.timeline)]
    for i, shot in enumerate(sb.shots or []):
        out.append((("shots", i, "prompt"), shot.prompt))
    for i, section in enumerate(sb.sections or []):
        if section.era:
            out.append((("sections", i, "era"), section.era))
        out += [(("sections", i, "shots", j, "prompt"), s.prompt) for j, s in enumerate(section.shots)]
    return out


def _check_references(sb: Storyboard) -> None:
    """Every `{name}` must be a defined character."""
    for loc, text in _texts(sb):
        for name in referenced_names(text):
            if name not in sb.characters:
                defined = ", ".join(sb.characters) or "none are defined"
                raise sb.error(loc, f'{{{name}}} is not a character (characters: {defined})')


def _check_path(sb: Storyboard, loc: tuple, value: Optional[str], sandbox: bool, check_files: bool, what: str) -> None:
    """Sandbox rules (no absolute paths, no ..) and existence for a path in the storyboard."""
    if not value:
        return
    if any(ord(c) < 32 for c in value):
        raise sb.error(loc, f"{_show(value)} contains control characters; is this a path?")
    p = PurePath(value)
    if sandbox and (p.is_absolute() or ".." in p.parts or value.startswith("~")):
        raise sb.error(loc, f'"{value}": in sandbox mode the {what} must be a path inside the storyboard\'s folder')
    resolved = (sb.base_dir / value).resolve()
    if sandbox and not resolved.is_relative_to(sb.base_dir.resolve()):
        raise sb.error(loc, f'"{value}" leads outside the storyboard\'s folder, which sandbox mode refuses')
    if check_files and not resolved.is_file():
        demo = " (or `demo` for the bundled demo song)" if what == "song" else ""
        raise sb.error(loc, f'{what} file "{value}" not found (looked for {resolved}){demo}')
