"""ShotPlan: frame-exact shots on the song's grid, with full prompts, seeds, camera and transitions, and their Cut.

Plain data throughout, so a plan serialises to JSON (storyreel.plan.io) that a
person can read, edit and render.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional

from .cut import Cut


@dataclass
class CameraMove:
    """A digital camera move over a shot: kind, amount, easing, and audio reactivity."""

    move: str = "static"  # static, zoom_in, zoom_out, pan_left, pan_right, tilt_up, tilt_down, dolly_zoom, shake
    amount: float = 0.1  # per second: zoom = fractional scale change, pan/tilt = frame widths, shake = 10x peak offset
    easing: str = "linear"  # linear, ease_in, ease_out, ease_in_out
    continuous: bool = False  # each shot starts from the previous shot's last frame
    intensity: float = 0.0  # 0 = ignore the music; >0 = speed follows energy and kicks on onsets


@dataclass
class Transition:
    """How a shot begins: cut, crossfade or zoom_through, centred on its start boundary."""

    kind: str = "cut"
    beats: float = 0.0  # length in beats
    frames: int = 0  # length in output frames (derived from beats and tempo)


@dataclass
class Grade:
    """Colour continuity (storyreel.edit.grade): match each shot's opening colours to what the viewer saw before."""

    match: str = "previous"  # previous: the previous shot's last frame; reference: the `reference` image
    strength: float = 1.0  # 0..1: how far the shot's first frame is moved to the target's colours
    ramp: bool = True  # ease the grade out over the shot (smoothstep), so the shot ends in its own colours
    reference: str = ""  # absolute path of the reference image (match: reference)


@dataclass
class Shot:
    """One shot: where it sits on the output frames and the song, and what it shows."""

    index: int
    start_frame: int
    end_frame: int  # exclusive
    start: float  # seconds (= start_frame / fps)
    end: float
    prompt: str  # full prompt: style + characters + shot text
    text: str  # the storyboard's own shot text
    seed: int
    camera: CameraMove
    transition: Transition
    section: str  # section label (A, B, ...) or name
    bars: float  # length in bars
    start_bar: int = 0  # 1-based bar number at the shot's start
    start_beat: int = 0  # index into MusicMap.beats of the shot's start
    era: str = ""  # look/style interpolated from a timeline, if any
    model: str = "builtin"
    notes: list[str] = field(default_factory=list)  # what the planner decided and why (fallbacks etc.)
    characters: list[str] = field(default_factory=list)  # names of the characters the prompt mentions
    source: list = field(default_factory=list)  # the storyboard entry it came from, e.g. ["shots", 3] (for editors)

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame


@dataclass
class ShotPlan:
    """Every shot of the video, frame-exact, and how they join (`cut`, derived from the shots once)."""

    title: str
    fps: int
    width: int
    height: int
    frames: int  # total output frames
    duration: float  # seconds = frames / fps
    model: str
    song: str  # resolved path of the audio
    shots: list[Shot]
    seed: int = 0
    takes: int = 1
    storyboard_hash: str = ""
    negative: str = ""  # negative prompt for every shot
    characters: dict[str, dict] = field(default_factory=dict)  # name -> {"description", "image" (abs path or "")}
    grade: Optional[Grade] = None  # colour continuity; None = off
    beats_per_bar: Optional[int] = None  # the meter the storyboard forced (None: detected), to analyse the song again
    tempo: Optional[float] = None  # the storyboard's corrections of the analysis (None: detected), kept for the same
    downbeat_offset: Optional[float] = None
    section_starts: Optional[list[float]] = None
    model_options: dict = field(default_factory=dict)  # the backend's options (the storyboard's model_options)
    cut: Cut = field(init=False, repr=False, compare=False)  # how the shots join: derived from them, once

    def __post_init__(self) -> None:
        self.cut = Cut.of(self.shots)

    def to_dict(self) -> dict:
        """Plain data for JSON: every field, the cut as one readable record per shot."""
        d = asdict(self)
        d["cut"] = self.cut.to_list()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ShotPlan":
        """The plan of `to_dict` output (its `cut` is derived again from the shots, never read)."""
        d = {k: v for k, v in d.items() if k != "cut"}
        shots = []
        for s in d["shots"]:
            s = dict(s)
            s["camera"] = CameraMove(**s["camera"])
            s["transition"] = Transition(**s["transition"])
            shots.append(Shot(**s))
        d["shots"] = shots
        if d.get("grade") is not None:
            d["grade"] = Grade(**d["grade"])
        return cls(**d)
