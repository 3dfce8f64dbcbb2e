"""The whole job: a storyboard (or a plan a person edited) and its song -> MP4, plan JSON, OTIO, contact sheet.

`render` is numbered stage calls over plain data; each stage is a function of
the module it names, and this module only orders them, times them, reports
progress through a callback and names the outputs:

    0. check_output       the -o path is writable, the options make sense      fsio, render.executor
    1. load_job           STORYBOARD.yaml -> Storyboard, or PLAN.json -> ShotPlan; the song's path   job
    2. analyze_song       song -> MusicMap                                      job, music.analyze
    3. plan_job           Storyboard + MusicMap + declared capabilities -> ShotPlan (with its Cut)   job
    4. check_job          prompt policy, C2PA credentials, the backend's weights, before any generation
    5. generate_takes     ShotPlan -> [ShotResult] (a take per shot)            render.executor
    6. grade              the takes' frames -> graded frames, grade report      edit.grade
    7. encode_video       frames -> assembled, watermarked, encoded MP4         edit.assemble, output.encode
    8. write_side_files   plan JSON, C2PA signature, OTIO/XML/EDL, contact sheet, manifest

`plan` and `animatic` run stages 1 to 3 exactly as `render` does, so all
three show the same shots and transitions. Everything here is callable
without the CLI (a server, a notebook); progress goes to `progress`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .edit.assemble import assemble
from .edit.grade import grade_shots
from .errors import StoryreelError
from .fsio import Outputs, atomic_write, check_writable, storage_error, with_storage_errors
from .models import registry
from .models.base import VideoModel
from .job import Job, analyze_song, load_job, plan_job
from .music import MusicMap
from .output import otio
from .output.animatic import write_animatic
from .output.contact_sheet import contact_sheet
from .output.encode import encode
from .output.interchange import write_interchange
from .output.prefetch import prefetched
from .output.shot_media import ShotMediaWriter, tee_shots
from .plan import ShotPlan, plan_to_json
from .progress import Progress, report
from .provenance import c2pa_sign, watermark
from .provenance.manifest import build_manifest, write_manifest
from .render import continuity
from .render import policy as prompt_policy
from .render.cache import TakeCache, default_cache_dir
from .render.estimate import Estimate, estimate
from .render.executor import make_executor
from .render.scoring import score_take
from .render.takes import OnShot, ShotResult, ShotSettings, moves_in_generation


@dataclass
class RenderOptions:
    """Everything `storyreel render` can be told besides the storyboard and the output."""

    model: str | None = None  # override the storyboard's model
    takes: int | None = None  # generations per shot (the best-scoring one is kept)
    pick: dict[int, int] = field(default_factory=dict)  # shot index -> forced take index (both from 0)
    only: set[int] | None = None  # regenerate just these shot indices
    sandbox: bool = False  # refuse absolute paths and .. in the storyboard
    cache_dir: Path | None = None  # the take cache (default $STORYREEL_CACHE, else ~/.cache/storyreel/takes)
    crf: int = 20  # H.264 quality
    model_options: dict = field(default_factory=dict)  # backend options over the storyboard's (None values unset)
    export_shots: bool = False  # also OUT.shots/shot_NN.mp4
    policy: Path | None = None  # prompt policy file (default $STORYREEL_POLICY, else the built-in list)
    c2pa_cert: Path | None = None  # sign with C2PA (or $STORYREEL_C2PA_CERT / _KEY)
    c2pa_key: Path | None = None
    watermark: bool = True  # the invisible watermark in every frame
    executor: str = "local"  # local | ray
    ray_address: str | None = None
    grade: bool | None = None  # colour grade on/off; None: the storyboard's
    sr: bool = True  # the backend's super-resolution stage over native frames before the edit
    prices: Path | None = None  # the price table of hosted models (default $STORYREEL_PRICES, else storyreel's)


@dataclass
class RenderReport:
    """What a render did and how long each stage took (seconds)."""

    output: Path
    stages: dict[str, float] = field(default_factory=dict)
    shots: int = 0
    generated: int = 0
    cached: int = 0
    duration: float = 0.0
    estimate: Estimate | None = None  # what stage 4 estimated it would generate and cost
    overlapped: dict[str, float] = field(default_factory=dict)  # busy seconds of work that ran beside a stage

    @property
    def realtime_factor(self) -> float:
        """Wall time / song length: below 1 is faster than real time."""
        return sum(self.stages.values()) / self.duration if self.duration else float("nan")


def load_and_plan(source: str | Path, options: RenderOptions | None = None, progress: Progress | None = None,
                  ) -> tuple[Job, MusicMap, ShotPlan]:
    """Stages 1-3: (job, music map, plan). Nothing is generated (`storyreel plan`, `animatic`)."""
    options = options or RenderOptions()
    job = load_job(source, sandbox=options.sandbox)
    music = analyze_song(job.song, job.fps, beats_per_bar=job.beats_per_bar, progress=progress,
                         overrides=job.music_overrides)
    return job, music, plan_job(job, music, **_plan_overrides(options))


def estimate_plan(plan: ShotPlan, options: RenderOptions | None = None) -> Estimate:
    """Generations, seconds of video and cost of rendering `plan` (`plan` shows it; `render` asks before paying)."""
    options = options or RenderOptions()
    backend = registry.get_model(plan.model, registry.parse_options(plan.model, plan.model_options))
    return estimate(plan, backend, options.prices)


Confirm = Callable[[Estimate], bool]  # shown the estimate before any generation; False stops the render


def _plan_overrides(options: RenderOptions) -> dict:
    """What of the options changes the plan."""
    return {"model": options.model, "takes": options.takes, "grade": options.grade,
            "model_options": options.model_options}


# ----------------------------------------------------------------------------- stage 4: before any generation


@dataclass
class Checked:
    """What stage 4 found: the policy that passed, the C2PA signer (if signing), the opened backend."""

    policy: prompt_policy.Policy
    backend: VideoModel
    credentials: c2pa_sign.Credentials | None = None
    signer: Any = None


def check_job(plan: ShotPlan, options: RenderOptions) -> Checked:
    """4. Prompt policy, C2PA credentials and the backend's weights: each fails now, before any generation."""
    for flag, shots in (("--pick", set(options.pick)), ("--only", options.only or set())):
        bad = sorted(i + 1 for i in shots if not 0 <= i < len(plan.shots))
        if bad:
            raise StoryreelError(f"shot {bad[0]} does not exist: the plan has shots 1 to {len(plan.shots)}", field=flag)
    policy = prompt_policy.load_policy(options.policy)
    prompt_policy.check_plan(plan, policy)
    creds = c2pa_sign.resolve_credentials(options.c2pa_cert, options.c2pa_key)
    signer = c2pa_sign.load_signer(creds) if creds else None
    backend = registry.get_model(plan.model, registry.parse_options(plan.model, plan.model_options))
    backend.check_available()
    return Checked(policy, backend, creds, signer)


# ----------------------------------------------------------------------------- stages 5-8: making it


def generate_takes(plan: ShotPlan, backend: VideoModel, music: MusicMap, options: RenderOptions,
                   progress: Progress | None = None, on_shot: OnShot | None = None,
                   camera_moves: dict[int, str] | None = None) -> list[ShotResult]:
    """5. A chosen take per shot, from the cache or the backend, on the executor the options name.

    on_shot(i, chosen TakeRecord) as each shot is done (the studio records it before the next finishes).
    camera_moves: shot index -> the move the backend makes itself (render.takes.moves_in_generation)."""
    cache = TakeCache(options.cache_dir or default_cache_dir())
    backend.use_cache(cache.root)  # hosted backends record their jobs there before polling
    runner = make_executor(options.executor, ray_address=options.ray_address, model_name=plan.model, model=backend)
    settings = ShotSettings(plan.takes, dict(options.pick), options.only, music, score_take,
                            camera_moves=dict(camera_moves or {}))
    label = f"generating {len(plan.shots)} shots ({backend.name})"
    report(progress, "generation", label, 0, len(plan.shots))
    done = [0]

    def shot_done(i, record):
        done[0] += 1
        if on_shot is not None:
            on_shot(i, record)
        report(progress, "generation", label, done[0], len(plan.shots))

    try:
        return runner.run(plan, backend, cache, settings, on_shot=shot_done)
    except OSError as e:  # writing a take: name the cache, not its temporary file
        raise storage_error(e, cache.root) or e from None


def encode_video(plan: ShotPlan, frames: list[np.ndarray], fps: list[float], music: MusicMap, song: Path,
                 out: Outputs, metadata: dict, options: RenderOptions, progress: Progress | None = None,
                 ) -> tuple[dict[int, np.ndarray], list[str] | None, float, dict[str, float]]:
    """7. Assemble, watermark and encode the video: (a still per shot, shot files or None, seconds, overlapped).

    Assembly and the watermark each run in a thread of their own, a few frames
    ahead of the encoder (output.prefetch), so the three overlap. seconds: the
    stage's wall time; overlapped: each part's own busy time ("assembly busy",
    "watermark busy") and the time the encoder waited for frames ("encoder
    waited"), which run beside that wall time and are not part of it.
    """
    thumbs: dict[int, np.ndarray] = {}
    mids = {(s.start_frame + s.end_frame) // 2: s.index for s in plan.shots}
    busy = {"assembly": 0.0}

    def assembled():
        """The frames in order, timing the assembly's own work."""
        stream = assemble(plan, frames, fps, music)
        for g in range(plan.frames):
            t0 = time.perf_counter()
            frame = next(stream)
            busy["assembly"] += time.perf_counter() - t0
            if g in mids:
                thumbs[mids[g]] = frame
            yield frame

    t = time.perf_counter()
    marked, waited = [0.0], [0.0]
    stream = assembled()
    if options.watermark:
        stream = watermark.watermark_frames(prefetched(stream), watermark.PAYLOAD, seconds=marked)
    stream = prefetched(stream, waited=waited)
    shot_writer = None
    if options.export_shots:
        shot_writer = ShotMediaWriter(plan, out.shot_files(len(plan.shots)), crf=options.crf, metadata=metadata)
        stream = tee_shots(stream, shot_writer)
    label = "assembling + encoding"
    try:
        encode(stream, plan.frames, plan.fps, (plan.width, plan.height), song, out.video, metadata=metadata,
               crf=options.crf, progress=lambda n: report(progress, "encoding", label, n, plan.frames))
    finally:
        stream.close()  # stops the worker threads at once on an error
    seconds = time.perf_counter() - t
    shot_media = [str(p.resolve()) for p in shot_writer.close()] if shot_writer else None
    overlapped = {"assembly busy": busy["assembly"], "watermark busy": marked[0], "encoder waited": waited[0]}
    return thumbs, shot_media, seconds, overlapped


def plan_record(plan: ShotPlan, results: list[ShotResult] | None = None, grade_report: dict | None = None) -> dict:
    """The plan as JSON, with each shot's takes (keys, seeds, scores), what was generated, and the grade's effect."""
    d = plan.to_dict()
    if grade_report is not None:
        d["grade_report"] = grade_report
    for shot, res in zip(d["shots"], results or []):
        shot["take"] = res.chosen
        shot["takes"] = [t.__dict__ for t in res.takes]
        shot["generated"] = {k: v for k, v in res.clip.info.items() if k != "stored"}
        shot["conditioned_on_previous"] = res.conditioned_on_previous
    return d


def write_side_files(job: Job, plan: ShotPlan, music: MusicMap, results: list[ShotResult], checked: Checked,
                     out: Outputs, thumbs: dict, shot_media: list[str] | None, grade_report: dict | None,
                     options: RenderOptions) -> None:
    """8. Everything beside the MP4; the manifest last, so it hashes the video as delivered (signed)."""
    atomic_write(out.plan, json.dumps(plan_record(plan, results, grade_report), indent=2) + "\n")
    models = [checked.backend.name]
    if checked.credentials:
        info = {"storyreel": __version__, "storyboard_hash": plan.storyboard_hash, "models": models,
                "shots": len(plan.shots),
                "watermark": {"method": watermark.METHOD, "payload_hex": watermark.PAYLOAD.hex()}
                if options.watermark else None}
        c2pa_sign.sign_mp4(out.video, checked.credentials, plan.title, info, checked.signer)
    timeline = otio.build_timeline(plan, str(out.video.resolve()), shot_media, music.downbeats)  # built once
    otio.write_timeline(timeline, out.otio)
    write_interchange(timeline, out.video)
    contact_sheet([thumbs[i] for i in range(len(plan.shots))], plan, out.contact_sheet)
    creds = checked.credentials
    c2pa = {"embedded": True, "certificate": creds.cert.name} if creds else {"embedded": False}
    write_manifest(out.manifest, build_manifest(plan, results, out.video, models=models, watermark=options.watermark,
                                                storyboard=str(job.source), c2pa=c2pa,
                                                policy=checked.policy.describe()))


def check_output(out: str | Path, options: RenderOptions) -> Outputs:
    """0. The output is an .mp4 that can be written, and the executor exists: fail in the first second."""
    out = Path(out)
    if out.suffix.lower() != ".mp4":
        raise StoryreelError("output must be an .mp4 file", file=str(out))
    check_writable(out)
    make_executor(options.executor, ray_address=options.ray_address)  # a bad --executor fails now
    return Outputs.of(out)


@with_storage_errors
def render(source: str | Path, out: str | Path, options: RenderOptions | None = None,
           progress: Progress | None = None, confirm: Confirm | None = None) -> RenderReport:
    """Render a storyboard (or a plan JSON) to `out` (MP4) and its side files; returns timings and counts.

    Provenance: every frame carries storyreel's invisible watermark (unless
    options.watermark is off), OUT.manifest.json names the models and every
    shot's prompt, seed and take, and with C2PA credentials the MP4 is
    signed. The prompt policy is checked before any generation; then `confirm`
    (if given) sees the estimate of generations and cost and may stop it. Disk full or
    read-only anywhere: one StoryreelError naming the file, nothing lost.
    """
    options = options or RenderOptions()
    outputs = check_output(out, options)  # 0
    rep = RenderReport(outputs.video)
    with _timed(rep.stages, "load"):
        job = load_job(source, sandbox=options.sandbox)  # 1
    with _timed(rep.stages, "analysis"):
        music = analyze_song(job.song, job.fps, beats_per_bar=job.beats_per_bar, progress=progress,
                             overrides=job.music_overrides)  # 2
    with _timed(rep.stages, "planning"):
        plan = plan_job(job, music, **_plan_overrides(options))  # 3
        checked = check_job(plan, options)  # 4
        rep.estimate = estimate(plan, checked.backend, options.prices)
    if confirm is not None and not confirm(rep.estimate):
        raise StoryreelError(f"render stopped at the estimate ({rep.estimate.line()}): nothing was generated")
    rep.shots, rep.duration = len(plan.shots), plan.duration
    plan, moves = moves_in_generation(plan, checked.backend)  # camera LoRAs: the model moves, the edit holds still
    with _timed(rep.stages, "generation"):
        results = generate_takes(plan, checked.backend, music, options, progress, camera_moves=moves)  # 5
    rep.generated = sum(not t.cached for r in results for t in r.takes)
    rep.cached = sum(t.cached for r in results for t in r.takes)
    frames, fps = [r.clip.frames for r in results], [r.clip.fps for r in results]
    grade_report = None
    if plan.grade is not None:
        with _timed(rep.stages, "grade"):
            windows = [r.clip.info.get("windows") for r in results]
            frames, grade_report = grade_shots(plan, frames, fps, music, windows)  # 6: colour continuity
    if options.sr:
        with _timed(rep.stages, "upsampling"):
            handoffs = [r.conditioned_on_previous for r in results]
            frames = upsample_takes(checked.backend, frames, progress, handoffs, plan, fps,
                                    music)  # 6b: native frames, before the edit resamples
    name = checked.backend.name
    metadata = {"title": plan.title,
                "comment": f"AI-generated with storyreel {__version__}; model: {name}; storyboard {plan.storyboard_hash}",
                "encoder": f"storyreel {__version__} (model: {name})"}
    thumbs, shot_media, rep.stages["encoding"], rep.overlapped = encode_video(
        plan, frames, fps, music, job.song, outputs, metadata, options, progress)  # 7
    with _timed(rep.stages, "export"):
        write_side_files(job, plan, music, results, checked, outputs, thumbs, shot_media, grade_report, options)  # 8
    return rep


def upsample_takes(backend: VideoModel, frames: list[np.ndarray], progress: Progress | None = None,
                   handoffs: list[bool] | None = None, plan: ShotPlan | None = None, fps: list[float] | None = None,
                   music: MusicMap | None = None) -> list[np.ndarray]:
    """Each take's native frames through the backend's super-resolution stage (identity for backends without).

    handoffs[i]: shot i starts from shot i-1's hand-off frame (a continuous cut). That frame is the camera's
    view one output frame after shot i-1, made at the native size; upscaled on its own it is not quite the
    picture the viewer saw last (the SR stage sharpens a crop-and-resize of a native frame, where the edit
    crops the SR stage's frames), so it is made again from shot i-1's upscaled frames, and the cut shows the
    same picture on both sides at the SR stage's size.
    """
    out: list[np.ndarray] = []
    for i, f in enumerate(frames):
        up = backend.upsample(f)
        if handoffs and handoffs[i] and i > 0 and up.shape[1:3] != f.shape[1:3]:
            up = up.copy()
            up[0] = continuity.handoff_frame(plan, i - 1, out[i - 1], fps[i - 1], music)
        out.append(up)
        report(progress, "upsampling", "upsampling", i + 1, len(frames))
    return out


@contextmanager
def _timed(stages: dict[str, float], name: str) -> Iterator[None]:
    """Add the block's wall time to stages[name]."""
    t = time.perf_counter()
    yield
    stages[name] = time.perf_counter() - t


# ----------------------------------------------------------------------------- the animatic


@dataclass
class AnimaticReport:
    output: Path
    shots: int
    duration: float
    size: tuple[int, int]
    plan: Path  # the plan it shows, as JSON beside it (renderable: `storyreel render A.plan.json`)


@with_storage_errors
def animatic(source: str | Path, out: str | Path, *, size: tuple[int, int] | None = None, pictures: bool = True,
             options: RenderOptions | None = None, crf: int = 23, progress: Progress | None = None) -> AnimaticReport:
    """Plan the storyboard exactly as `render` would and write the animatic MP4 and its plan JSON (no generation)."""
    out = Path(out)
    if out.suffix.lower() != ".mp4":
        raise StoryreelError("output must be an .mp4 file", file=str(out))
    check_writable(out)
    job, music, plan = load_and_plan(source, options, progress)
    size = write_animatic(plan, music, job.song, out, size=size, pictures=pictures, crf=crf,
                          progress=lambda n: report(progress, "animatic", "animatic", n, plan.frames))
    side = atomic_write(Outputs.of(out).plan, plan_to_json(plan))
    return AnimaticReport(out, len(plan.shots), plan.duration, size, side)
