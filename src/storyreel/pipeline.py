"""The whole job: storyboard + song -> plan -> takes -> cut -> MP4, plan JSON, OTIO and contact sheet.

Each stage is a plain function from the modules it names; this one only
orders them, times them, shows progress and writes the outputs atomically.
"""

from __future__ import annotations

import functools
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__, edit, encode, export
from .cache import TakeCache, default_cache_dir
from .errors import StoryreelError
from .music import MusicMap, analyze
from .grade import grade_shots
from .plan import Grade, ShotPlan, make_plan
from .progress import progress_bar
from .render import ShotResult, ShotSettings, apply_conditioning_fallbacks
from .storyboard import Storyboard, load_storyboard, storyboard_hash


def demo_song_path() -> Path:
    """The bundled demo song, synthesised once (deterministically) into the user's cache."""
    from . import demo_song

    root = Path(os.environ.get("STORYREEL_DEMO_DIR", Path.home() / ".cache" / "storyreel" / "demo"))
    path = root / f"demo-song-{demo_song.fingerprint()}.wav"  # a changed song gets a new file
    if not path.exists():
        demo_song.synthesize(path)
        for stale in root.glob("demo-song-*.wav"):  # songs of older versions: 10 MB each, never read again
            if stale != path:
                stale.unlink(missing_ok=True)
    return path


def backend_for(sb: Storyboard, name: str, cli_options: dict | None = None):
    """The backend `name` with the storyboard's `diffusers:` options (CLI flags win), checked up front.

    Checking here (before the song is analysed) means a missing download is a
    one-line error in the first second, not after minutes of work.
    """
    from .models.registry import get_model

    options = None
    if name != "builtin":
        from .models.diffusers_backend import DiffusersOptions

        merged = {**(sb.diffusers or {}), **{k: v for k, v in (cli_options or {}).items() if v is not None}}
        try:
            options = DiffusersOptions.from_mapping(merged) if merged else None
        except StoryreelError as e:
            if e.field and sb.diffusers and e.field in sb.diffusers:
                raise sb.error(("diffusers", e.field), e.message) from None
            raise
    backend = get_model(name, options)
    check = getattr(backend, "check_available", None)
    if check is not None:
        check()
    return backend


def song_path(sb: Storyboard) -> Path:
    return demo_song_path() if sb.resolve_song_path() is None else sb.resolve_song_path()


def analyze_song(path: Path, fps: float, *, beats_per_bar: int | None = None) -> MusicMap:
    with progress_bar(transient=True) as bar:
        task = bar.add_task("analysing the song", total=1.0)
        return analyze(path, fps=fps, beats_per_bar=beats_per_bar, progress=lambda stage, f: bar.update(task, completed=f, description=f"analysing: {stage}"))


def load_and_plan(storyboard: Path, *, sandbox: bool = False, model: str | None = None, takes: int | None = None) -> tuple[Storyboard, MusicMap, ShotPlan]:
    """Storyboard and song -> (storyboard, music map, plan). No generation."""
    sb = load_storyboard(storyboard, sandbox=sandbox)
    song = song_path(sb)
    music = analyze_song(song, sb.output.fps, beats_per_bar=sb.beats_per_bar)
    plan = make_plan(sb, music, model=model)
    plan.song = str(song)
    if takes is not None:
        plan.takes = takes
    return sb, music, plan


def sidecar(out: Path, suffix: str) -> Path:
    """OUT.mp4 -> OUT.<suffix> beside it."""
    return out.with_name(out.stem + suffix)


@dataclass
class RenderReport:
    """What a render did and how long each stage took (seconds)."""

    output: Path
    stages: dict[str, float] = field(default_factory=dict)
    shots: int = 0
    generated: int = 0
    cached: int = 0
    duration: float = 0.0

    @property
    def realtime_factor(self) -> float:
        """Wall time / song length: below 1 is faster than real time."""
        return sum(self.stages.values()) / self.duration if self.duration else float("nan")


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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


def _storage_errors(fn):
    """Disk full, read-only or permission failures anywhere in `fn` become one-line StoryreelErrors.

    Nothing is lost when they happen: takes and outputs are written to
    temporary names and renamed, so the cache holds only complete takes and
    no partial output appears; running the command again resumes.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except OSError as e:
            err = encode.storage_error(e)
            if err is None:
                raise
            raise err from None

    return wrapper


@_storage_errors
def render(
    storyboard: Path,
    out: Path,
    *,
    model: str | None = None,
    takes: int | None = None,
    pick: dict[int, int] | None = None,
    only: set[int] | None = None,
    sandbox: bool = False,
    cache_dir: Path | None = None,
    crf: int = 20,
    model_options: dict | None = None,
    export_shots: bool = False,
    policy: Path | None = None,
    c2pa_cert: Path | None = None,
    c2pa_key: Path | None = None,
    watermark: bool = True,
    executor: str = "local",
    ray_address: str | None = None,
    grade: bool | None = None,
) -> RenderReport:
    """Render a storyboard to `out` (MP4) and its sidecars; returns timings and counts.

    Provenance: every frame carries storyreel's invisible watermark (unless
    watermark=False), OUT.manifest.json names the models and every shot's
    prompt, seed and take, and with C2PA credentials (arguments or
    STORYREEL_C2PA_CERT/KEY) the MP4 is signed. The prompt policy (`policy`
    file, else $STORYREEL_POLICY, else the default list) is checked before
    any generation. export_shots writes OUT.shots/shot_NN.mp4 for the OTIO.
    executor: "local" (a pool sized to this machine) or "ray" (shots as Ray
    tasks on the cluster at `ray_address`, else $RAY_ADDRESS, else a local
    one); see storyreel.executor. Disk full or read-only: StoryreelError.
    grade: True/False turns the colour-continuity grade on (the storyboard's
    settings, else `match: previous`) or off; None keeps the storyboard's.
    """
    from . import handoff
    from . import policy as policy_mod
    from . import provenance
    from .provenance import c2pa_sign
    from .provenance.manifest import build_manifest, manifest_path, write_manifest

    out = Path(out)
    if out.suffix.lower() != ".mp4":
        raise StoryreelError("output must be an .mp4 file", file=str(out))
    encode.check_writable(out)
    from .executor import make_executor

    make_executor(executor, ray_address=ray_address)  # a bad --executor fails now, not after the analysis
    report = RenderReport(out)
    t = time.perf_counter()
    sb = load_storyboard(storyboard, sandbox=sandbox)
    song = song_path(sb)
    report.stages["load"] = time.perf_counter() - t

    t = time.perf_counter()
    music = analyze_song(song, sb.output.fps, beats_per_bar=sb.beats_per_bar)
    report.stages["analysis"] = time.perf_counter() - t

    t = time.perf_counter()
    plan = make_plan(sb, music, model=model)
    plan.song = str(song)
    plan.storyboard_hash = storyboard_hash(sb)
    if takes is not None:
        plan.takes = takes
    for flag, shots in (("--pick", set(pick or {})), ("--only", only or set())):
        bad = sorted(i + 1 for i in shots if not 0 <= i < len(plan.shots))
        if bad:
            raise StoryreelError(f"shot {bad[0]} does not exist: the plan has shots 1 to {len(plan.shots)}", field=flag)
    prompt_policy = policy_mod.load_policy(policy)
    policy_mod.check_plan(plan, prompt_policy)  # before any generation
    creds = c2pa_sign.resolve_credentials(c2pa_cert, c2pa_key)
    signer = c2pa_sign.load_signer(creds) if creds else None  # bad credentials fail now, not after the render
    backend = backend_for(sb, plan.model, model_options)  # missing weights fail here, before any generation
    plan = apply_conditioning_fallbacks(plan, backend)
    if grade is not None:
        plan.grade = (plan.grade or Grade()) if grade else None
    report.stages["planning"] = time.perf_counter() - t
    report.shots, report.duration = len(plan.shots), plan.duration

    t = time.perf_counter()
    cache = TakeCache(cache_dir or default_cache_dir())
    with progress_bar() as bar:
        task = bar.add_task(f"generating {len(plan.shots)} shots ({backend.name})", total=len(plan.shots))
        from .scoring import score_take

        runner = make_executor(executor, ray_address=ray_address, model_name=plan.model, model=backend)
        settings = ShotSettings(plan.takes, dict(pick or {}), only, music, score_take)
        try:
            results = runner.run(plan, backend, cache, settings, on_shot=lambda i, rec: bar.update(task, advance=1))
        except OSError as e:  # writing a take: name the cache, not its temporary file
            raise encode.storage_error(e, cache.root) or e from None
    report.generated = sum(not t.cached for r in results for t in r.takes)
    report.cached = sum(t.cached for r in results for t in r.takes)
    report.stages["generation"] = time.perf_counter() - t

    shot_frames, shot_fps = [r.clip.frames for r in results], [r.clip.fps for r in results]
    grade_report = None
    if plan.grade is not None:
        t = time.perf_counter()
        shot_frames, grade_report = grade_shots(plan, shot_frames, shot_fps, music)  # colour continuity
        report.stages["grade"] = time.perf_counter() - t

    t = time.perf_counter()
    thumbs: dict[int, np.ndarray] = {}
    mids = {(s.start_frame + s.end_frame) // 2: s.index for s in plan.shots}

    assembly_seconds = 0.0

    def frames_with_thumbs():
        """The assembled frames; times the assembly separately from the encoder pulling on it."""
        nonlocal assembly_seconds
        frames = edit.assemble(plan, shot_frames, shot_fps, music)
        for g in range(plan.frames):
            t0 = time.perf_counter()
            frame = next(frames)
            assembly_seconds += time.perf_counter() - t0
            if g in mids:
                thumbs[mids[g]] = frame
            yield frame

    models = sorted({backend.name})
    metadata = {
        "title": sb.display_title,
        "comment": f"AI-generated with storyreel {__version__}; model: {', '.join(models)}; storyboard {plan.storyboard_hash}",
        "encoder": f"storyreel {__version__} (model: {', '.join(models)})",
    }
    watermark_seconds = [0.0]
    stream = frames_with_thumbs()
    if watermark:
        stream = provenance.watermark_frames(stream, provenance.PAYLOAD, seconds=watermark_seconds)
    shot_writer = None
    if export_shots:
        shot_writer = handoff.ShotMediaWriter(plan, handoff.shots_folder(out), crf=crf, metadata=metadata)
        stream = handoff.tee_shots(stream, shot_writer)
    with progress_bar() as bar:
        task = bar.add_task("assembling + encoding", total=plan.frames)
        encode.encode(
            stream, plan.frames, plan.fps, (plan.width, plan.height), song, out,
            metadata=metadata, crf=crf, progress=lambda n: bar.update(task, completed=n),
        )
    report.stages["assembly"] = assembly_seconds
    report.stages["watermark"] = watermark_seconds[0]
    report.stages["encoding"] = time.perf_counter() - t - assembly_seconds - watermark_seconds[0]
    shot_media = [str(p.resolve()) for p in shot_writer.close()] if shot_writer else None

    t = time.perf_counter()
    _write_text_atomic(sidecar(out, ".plan.json"), json.dumps(plan_record(plan, results, grade_report), indent=2) + "\n")
    provenance_info = {
        "storyreel": __version__, "storyboard_hash": plan.storyboard_hash, "models": models, "shots": len(plan.shots),
        "watermark": {"method": provenance.METHOD, "payload_hex": provenance.PAYLOAD.hex()} if watermark else None,
    }
    if creds:
        c2pa_sign.sign_mp4(out, creds, sb.display_title, provenance_info, signer)
    timeline = export.build_timeline(plan, str(out.resolve()), shot_media, music.downbeats)  # built once, written thrice
    export.write_timeline(timeline, sidecar(out, ".otio"))
    handoff.write_interchange(timeline, out)
    export.contact_sheet([thumbs[i] for i in range(len(plan.shots))], plan, sidecar(out, ".contact.png"))
    write_manifest(manifest_path(out), build_manifest(
        plan, results, out, models=models, watermark=watermark, storyboard=str(storyboard),
        c2pa={"embedded": True, "certificate": creds.cert.name} if creds else {"embedded": False},
        policy=prompt_policy.describe(),
    ))
    report.stages["export"] = time.perf_counter() - t
    return report
