"""The storyboard schema: what a storyboard may say, as pydantic models over the shared vocabulary.

A storyboard names the song, the look (style, characters, camera, transitions)
and the story, either as a list of `shots` or as `sections` attached to the
song's own sections. `storyboard.load` reads a file into these models with
line-numbered errors; the `Storyboard` keeps the file's node tree, so later
stages (the planner) can raise errors that point at the storyboard too.

Schema (every mapping rejects unknown keys):

    title: text                       # default: the file name
    song: path | demo                 # relative to this file; `demo` = the bundled demo song
    model: builtin                    # which text-to-video model renders the shots
    model_options: {...}              # options for that backend (diffusers: dtype, offload, ...)
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
    beats_per_bar: 3 | 4 | ...        # force the meter; detected when absent
    tempo: BPM                        # the tempo you tap; detected when absent
    downbeat_offset: seconds          # time of the first downbeat (beat 1 of a bar); detected when absent
    section_starts: [seconds, ...]    # where the song's sections start; detected when absent
    shots: [prompt | {prompt, length, camera, transition, seed}, ...]
    sections: [{section, era, camera, bars, shots: [...]}, ...]   # instead of `shots`

`diffusers:` is the deprecated old name of `model_options:` (loading says so in one line).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from ..errors import StoryreelError
from .source import SourceMap, format_loc, show
from .values import Length, parse_length, parse_size
from .vocabulary import CAMERA_MOVES, DEMO_SONG, EASINGS, GRADE_MATCHES, PACINGS, TRANSITIONS

_REF_RE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
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
        raise ValueError(f"{show(value)} is not a {what}; use one of: {', '.join(allowed)}")
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
        raise ValueError(f"{show(v)} is not a section; use a number (1 = first), a label like A, "
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
        raise ValueError(f"{show(v)} is not a position; use a fraction of the song (0.5) or a section (chorus, B, 3)")


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
    beats_per_bar: Optional[int] = Field(None, ge=2, le=12)  # force the beats a bar (2 for 2/4 or 6/8, 3 for 3/4); None detects
    tempo: Optional[float] = Field(None, ge=30, le=300)  # BPM of the beat; None detects
    downbeat_offset: Optional[float] = Field(None, ge=0)  # seconds of the first downbeat; None detects
    section_starts: Optional[list[float]] = None  # seconds where sections start; None detects
    model_options: Optional[dict[str, Any]] = None  # options for the model's backend (e.g. diffusers: dtype, offload)
    diffusers: Optional[dict[str, Any]] = None  # deprecated old name of model_options

    _source: Optional[SourceMap] = PrivateAttr(None)

    @field_validator("pacing", mode="before")
    @classmethod
    def _pacing(cls, v: object) -> str:
        return _one_of(v, PACINGS, "pacing")

    @field_validator("section_starts")
    @classmethod
    def _section_starts(cls, v: Optional[list[float]]) -> Optional[list[float]]:
        if v is not None and (any(t < 0 for t in v) or any(b <= a for a, b in zip(v, v[1:]))):
            raise ValueError("section starts are seconds from the start of the song, increasing")
        return v

    @field_validator("grade", mode="before")
    @classmethod
    def _grade_off(cls, v: object) -> object:
        return None if v is False else v  # grade: false

    # Locations -------------------------------------------------------------------

    def attach_source(self, source: SourceMap) -> "Storyboard":
        """Remember the file and node tree this storyboard was read from (for located errors)."""
        self._source = source
        return self

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

    @property
    def options_key(self) -> str:
        """Where the backend options are written: `model_options`, or its deprecated old name `diffusers`."""
        return "diffusers" if self.model_options is None and self.diffusers is not None else "model_options"

    @property
    def backend_options(self) -> dict[str, Any]:
        """The options for the model's backend, from whichever key holds them ({} when none)."""
        return dict(self.model_options if self.model_options is not None else self.diffusers or {})


NEWER_KEYS = ("model_options", "tempo", "downbeat_offset", "section_starts")


def storyboard_hash(storyboard: Storyboard) -> str:
    """A short content hash of the storyboard's meaning (not its formatting or comments)."""
    data = storyboard.model_dump(mode="json")
    for key in NEWER_KEYS:  # keys newer than most storyboards: unset, they change no hash
        if data.get(key) is None:
            data.pop(key, None)
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


