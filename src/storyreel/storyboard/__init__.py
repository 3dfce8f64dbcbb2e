"""The storyboard: a YAML file that says what the video shows (schema), read with line-numbered errors (load)."""

from .load import load_storyboard, parse_storyboard
from .schema import (
    CameraSpec,
    CharacterSpec,
    GradeSpec,
    OutputSpec,
    SectionSpec,
    ShotSpec,
    Storyboard,
    TimelineKey,
    TransitionSpec,
    storyboard_hash,
)
from .values import Length, parse_length, parse_size, referenced_names, substitute

__all__ = [
    "CameraSpec", "CharacterSpec", "GradeSpec", "Length", "OutputSpec", "SectionSpec", "ShotSpec", "Storyboard",
    "TimelineKey", "TransitionSpec", "load_storyboard", "parse_length", "parse_size", "parse_storyboard",
    "referenced_names", "storyboard_hash", "substitute",
]
