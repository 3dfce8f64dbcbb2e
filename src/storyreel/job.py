"""What to render, planned: a storyboard (or a plan a person edited), its song analysed, and the ShotPlan.

Stages 1 to 3 of storyreel.pipeline, which `plan`, `animatic` and `render` all
run the same way:

    1. load_job       STORYBOARD.yaml -> Storyboard, or PLAN.json -> ShotPlan; the song's path
    2. analyze_song   song -> MusicMap (cached by the audio's hash)
    3. plan_job       Storyboard + MusicMap + the backend's declared capabilities -> ShotPlan (with its Cut);
                      a given plan is used as it is
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import StoryreelError
from .models import registry
from .music import MusicMap, analyze
from .music.demo_song import demo_song_path
from .music.overrides import MusicOverrides, apply_overrides
from .plan import Grade, ShotPlan, make_plan, read_plan
from .progress import Progress, report
from .storyboard import Storyboard, load_storyboard


@dataclass
class Job:
    """What to render: a storyboard to plan on its song, or a plan (JSON) to render as it is."""

    source: Path
    song: Path
    storyboard: Storyboard | None = None
    plan: ShotPlan | None = None

    @property
    def fps(self) -> int:
        return self.plan.fps if self.plan else self.storyboard.output.fps

    @property
    def beats_per_bar(self) -> int | None:
        return self.plan.beats_per_bar if self.plan else self.storyboard.beats_per_bar

    @property
    def music_overrides(self) -> MusicOverrides:
        """The storyboard's (or the plan's) corrections of the song's analysis."""
        src = self.plan or self.storyboard
        starts = tuple(src.section_starts) if src.section_starts is not None else None
        return MusicOverrides(src.tempo, src.downbeat_offset, starts)


def load_job(source: str | Path, *, sandbox: bool = False) -> Job:
    """1. A storyboard (.yaml) or a plan (.json, as `plan --json` or a render wrote it), and its song's path."""
    source = Path(source)
    if source.suffix.lower() == ".json":
        plan = read_plan(source)
        song = Path(plan.song)
        if not song.is_file():
            raise StoryreelError(f"the plan's song is not here: {song}", file=str(source), field="song")
        return Job(source, song, plan=plan)
    return storyboard_job(source, load_storyboard(source, sandbox=sandbox))


def storyboard_job(source: Path, sb: Storyboard) -> Job:
    """The job of a storyboard already parsed (the studio validates an edit's text before it is written)."""
    return Job(Path(source), demo_song_path() if sb.resolve_song_path() is None else sb.resolve_song_path(),
               storyboard=sb)


def analyze_song(path: Path, fps: float, *, beats_per_bar: int | None = None, progress: Progress | None = None,
                 overrides: MusicOverrides | None = None) -> MusicMap:
    """2. The song's MusicMap at the video's frame rate (cached by the audio's hash), the user's corrections
    (tempo, first downbeat, section starts) applied over what was detected."""
    report(progress, "analysis", "analysing the song", 0.0, 1.0)
    mm = analyze(path, fps=fps, beats_per_bar=beats_per_bar,
                 progress=lambda stage, f: report(progress, "analysis", f"analysing: {stage}", f, 1.0))
    return apply_overrides(mm, overrides)


def backend_options(job: Job, overrides: dict | None) -> dict:
    """The backend's options as a mapping: the storyboard's `model_options:` (or the plan's), flags over them."""
    base = job.plan.model_options if job.plan else job.storyboard.backend_options
    return {**base, **{k: v for k, v in (overrides or {}).items() if v is not None}}


def parse_backend_options(job: Job, model: str, mapping: dict) -> Any:
    """registry.parse_options, with a bad storyboard option pointing at its line."""
    try:
        return registry.parse_options(model, mapping)
    except StoryreelError as e:
        sb = job.storyboard
        if sb is not None and e.field and e.field in sb.backend_options:
            raise sb.error((sb.options_key, e.field), e.message) from None
        raise


def plan_job(job: Job, music: MusicMap, *, model: str | None = None, takes: int | None = None,
             grade: bool | None = None, model_options: dict | None = None) -> ShotPlan:
    """3. The plan: the storyboard planned for what the backend declares it can do, or the given plan.

    model, takes, grade and model_options (backend flags over the storyboard's) override the job's.
    """
    if job.plan is not None:
        return _given_plan(job, model, takes, grade, model_options)
    model = model or job.storyboard.model
    mapping = backend_options(job, model_options)
    capabilities = registry.capabilities(model, parse_backend_options(job, model, mapping))
    return make_plan(job.storyboard, music, model=model, takes=takes, grade=grade, capabilities=capabilities,
                     model_options=mapping)


def _given_plan(job: Job, model: str | None, takes: int | None, grade: bool | None,
                model_options: dict | None) -> ShotPlan:
    """A plan from JSON with the render's takes and grade applied (a new plan: the given one is not changed)."""
    plan = job.plan
    if model and model != plan.model:
        raise StoryreelError(f"this plan was made for model {plan.model}; to render with {model}, plan the "
                             f"storyboard again with --model {model}", file=str(job.source), field="--model")
    changes: dict = {}
    if takes is not None:
        changes["takes"] = takes
    if grade is not None:
        changes["grade"] = (plan.grade or Grade()) if grade else None
    if any(v is not None for v in (model_options or {}).values()):
        changes["model_options"] = backend_options(job, model_options)
    return replace(plan, **changes) if changes else plan
