"""The plan as JSON: written for people to read and edit, read back with one-line errors naming file, line, field.

`storyreel plan --json` and every render (OUT.plan.json) write it; `storyreel
render PLAN.json` reads it, so a plan a person edited (a prompt, a seed, a
transition, a camera move) renders as edited. A render's plan record carries
more than the plan (each shot's takes and what was generated, the grade's
report); reading ignores those keys, and the `cut` block, which is derived
from the shots again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import yaml

from ..errors import StoryreelError
from ..storyboard.source import SourceMap, format_loc
from ..storyboard.vocabulary import CAMERA_MOVES, EASINGS, GRADE_MATCHES, TRANSITIONS
from .shotplan import CameraMove, Grade, Shot, ShotPlan, Transition

RECORD_KEYS = {"cut", "grade_report"}  # written for reading, not read back
SHOT_RECORD_KEYS = {"take", "takes", "generated", "conditioned_on_previous"}
WORDS = {("camera", "move"): CAMERA_MOVES, ("camera", "easing"): EASINGS, ("transition", "kind"): TRANSITIONS}


class _PlanProblem(Exception):
    """A problem at a location of the plan data (turned into a located StoryreelError by plan_from_json)."""

    def __init__(self, loc: tuple, message: str):
        super().__init__(message)
        self.loc, self.message = loc, message


def plan_to_json(plan: ShotPlan) -> str:
    """The plan as indented JSON, for people to read and edit."""
    return json.dumps(plan.to_dict(), indent=2, ensure_ascii=False) + "\n"


def plan_from_json(text: str, *, file: Optional[str] = None) -> ShotPlan:
    """A ShotPlan from `plan_to_json` output (or a render's plan record); StoryreelError naming line and field."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise StoryreelError(f"invalid JSON: {e.msg}", file=file, line=e.lineno) from None
    try:
        _check(data)
        return ShotPlan.from_dict(_plan_fields(data))
    except _PlanProblem as p:
        raise StoryreelError(p.message, file=file, line=_line_of(text, file, p.loc), field=format_loc(p.loc) or None) \
            from None
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise StoryreelError(f"not a storyreel plan ({type(e).__name__}: {e})", file=file) from None


def read_plan(path: str | os.PathLike) -> ShotPlan:
    """The plan in the JSON file at `path` (see plan_from_json)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StoryreelError("no such plan file", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise StoryreelError(f"cannot read the plan: {getattr(e, 'strerror', None) or e}", file=str(path)) from None
    return plan_from_json(text, file=str(path))


def _plan_fields(data: dict) -> dict:
    """The plan's own fields of a plan record (record-only keys dropped)."""
    d = {k: v for k, v in data.items() if k not in RECORD_KEYS}
    d["shots"] = [{k: v for k, v in s.items() if k not in SHOT_RECORD_KEYS} for s in data["shots"]]
    return d


def _check(data: object) -> None:
    """Keys, vocabulary and frame tiling of plan data; _PlanProblem at the first thing wrong."""
    if not isinstance(data, dict):
        raise _PlanProblem((), "a plan is a JSON object with title, fps, shots, ...")
    _check_keys(data, (), ShotPlan.__dataclass_fields__, RECORD_KEYS, required=("fps", "frames", "shots"))
    shots = data["shots"]
    if not isinstance(shots, list) or not shots:
        raise _PlanProblem(("shots",), "a plan needs a list of shots")
    edge = 0
    for i, shot in enumerate(shots):
        loc = ("shots", i)
        if not isinstance(shot, dict):
            raise _PlanProblem(loc, "a shot is a JSON object")
        _check_keys(shot, loc, Shot.__dataclass_fields__, SHOT_RECORD_KEYS,
                    required=("start_frame", "end_frame", "prompt", "camera", "transition"))
        for (part, key), allowed in WORDS.items():
            value = shot[part].get(key) if isinstance(shot[part], dict) else None
            if value is not None and value not in allowed:
                raise _PlanProblem(loc + (part, key), f"{json.dumps(value)} is not one of: {', '.join(allowed)}")
        if shot["start_frame"] != edge or not shot["end_frame"] > edge:
            raise _PlanProblem(loc + ("start_frame",), f"shot {i + 1} covers frames [{shot['start_frame']}, "
                               f"{shot['end_frame']}); it must start at {edge}, where the shot before it ends")
        edge = shot["end_frame"]
    if edge != data["frames"]:
        raise _PlanProblem(("frames",), f"the shots end at frame {edge}, the plan has {data['frames']} frames")
    grade = data.get("grade")
    if isinstance(grade, dict) and grade.get("match", "previous") not in GRADE_MATCHES:
        raise _PlanProblem(("grade", "match"), f"{json.dumps(grade['match'])} is not one of: {', '.join(GRADE_MATCHES)}")
    for part, cls in (("camera", CameraMove), ("transition", Transition)):
        for i, shot in enumerate(shots):
            _check_keys(shot[part], ("shots", i, part), cls.__dataclass_fields__, set())
    if isinstance(grade, dict):
        _check_keys(grade, ("grade",), Grade.__dataclass_fields__, set())


def _check_keys(d: object, loc: tuple, known, ignored: set[str], required: tuple[str, ...] = ()) -> None:
    if not isinstance(d, dict):
        raise _PlanProblem(loc, "expected a JSON object")
    for key in d:
        if key not in known and key not in ignored:
            raise _PlanProblem(loc + (key,), f"unknown key (allowed: {', '.join(k for k in known if k != 'cut')})")
    for key in required:
        if key not in d:
            raise _PlanProblem(loc + (key,), "is required" if loc else f"not a storyreel plan (no `{key}`)")


def _line_of(text: str, file: Optional[str], loc: tuple) -> Optional[int]:
    """The line of `loc` in the JSON text (JSON is YAML, whose node tree knows its lines); None if unknown."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    return SourceMap(Path(file) if file else None, root).line_of(loc)
