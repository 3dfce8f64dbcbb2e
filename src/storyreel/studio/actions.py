"""The studio's long work, queued on its worker: generating shots, re-rolls, the animatic, the render.

Each is the pipeline's own code: `pipeline.check_job` (policy, backend) then
`pipeline.generate_takes` (the CLI's executor) for every shot, or
`render.takes.generate_shot` (the executors' unit of work) for one shot or a
range; `pipeline.animatic`; `pipeline.render`. Takes go through the same
content-addressed TakeCache as `storyreel render`, so neither redoes the
other's work, and a studio killed mid-generation loses no finished take.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from .. import pipeline
from ..errors import StoryreelError
from ..fsio import Outputs
from ..plan import ShotPlan
from ..progress import report
from ..render import continuity
from ..render.scoring import score_take
from ..render.takes import ShotResult, ShotSettings, TakeRecord, generate_shot
from .jobs import Job
from .session import Studio
from .view import plan_view

ANIMATIC_SIZE = (640, 360)
_THUMBS: dict[str, bytes] = {}


def _planned(studio: Studio) -> tuple[Any, ShotPlan]:
    snap = studio.project.snapshot
    if snap.plan is None:
        raise StoryreelError(snap.error.message if snap.error else "nothing is planned")
    return snap, snap.plan


def _options(studio: Studio, plan: ShotPlan) -> pipeline.RenderOptions:
    """The render options that reproduce the studio's choices: every kept take as a --pick."""
    pick = {s.index: k for s in plan.shots if (k := studio.takes.kept(s)) is not None}
    return pipeline.RenderOptions(pick=pick, cache_dir=studio.project.cache.root)


def _take(t: TakeRecord) -> dict:
    return {"take": t.take, "seed": t.seed, "key": t.key, "score": None if t.score is None else round(float(t.score), 4)}


def _record(studio: Studio, plan: ShotPlan, res: ShotResult, *, keep_new: bool = False) -> None:
    """Remember a shot's takes (keys, seeds, scores) and its kept take, on disk before the next shot."""
    shot = plan.shots[res.index]
    kept = studio.takes.kept(shot)
    takes = [_take(t) for t in res.takes]
    studio.takes.update(shot, takes=takes, kept=res.chosen if kept is None or keep_new else kept, pending=None)


def generate(studio: Studio, job: Job, shots: list[int] | None, reroll: int | None = None) -> dict:
    """Generate `shots` (None: all, through the executor); `reroll`: add a take with a new seed to that shot."""
    snap, plan = _planned(studio)
    options = _options(studio, plan)
    progress = studio.worker.progress(job)
    checked = pipeline.check_job(plan, options)  # policy and backend, before any generation
    if shots is None:
        for s in plan.shots:
            if studio.takes.kept(s) is None:
                studio.takes.update(s, pending=True)

        def shot_done(i: int, chosen: TakeRecord) -> None:  # on disk as each shot finishes: a kill loses none
            if studio.takes.kept(plan.shots[i]) is None:
                studio.takes.update(plan.shots[i], takes=[_take(chosen)], kept=chosen.take, pending=None)
        results = pipeline.generate_takes(plan, checked.backend, snap.music, options, progress, shot_done)
        for res in results:
            _record(studio, plan, res)
        return {"shots": len(results)}
    bad = [i + 1 for i in shots if not 0 <= i < len(plan.shots)]
    if bad:
        raise StoryreelError(f"shot {bad[0]} does not exist: the plan has shots 1 to {len(plan.shots)}")
    needed = set(shots)
    for i in shots:  # a shot that starts from its predecessor's last frame needs the predecessor's take
        while i > 0 and continuity.conditioned_on_previous(plan, i, checked.backend):
            i -= 1
            needed.add(i)
    order, results = sorted(needed), {}
    label = f"generating {len(order)} shot{'s' * (len(order) != 1)} ({checked.backend.name})"
    report(progress, "generation", label, 0, len(order))
    for n, i in enumerate(order):
        shot = plan.shots[i]
        pick = dict(options.pick)
        if i == reroll:
            pick[i] = len(studio.takes.family(shot).get("takes", [])) or 1  # the next take number: a new seed
        settings = ShotSettings(plan.takes, pick, None, snap.music, score_take)
        studio.takes.update(shot, pending=True)
        results[i] = generate_shot(plan, i, checked.backend, studio.project.cache, settings, results.get(i - 1))
        _record(studio, plan, results[i])
        report(progress, "generation", label, n + 1, len(order))
    return {"shots": len(order)}


def _record_render(studio: Studio, plan: ShotPlan, record: Path) -> None:
    """The takes a render made (its OUT.plan.json), remembered for shots the studio had none for: the lane
    then shows them, and a re-roll adds to them."""
    rendered = json.loads(record.read_text())["shots"]
    for shot, done in zip(plan.shots, rendered):
        if done.get("prompt") == shot.prompt and done.get("takes") and studio.takes.kept(shot) is None:
            takes = [{"take": t["take"], "seed": t["seed"], "key": t["key"], "score": t.get("score")}
                     for t in done["takes"]]
            studio.takes.update(shot, takes=takes, kept=done["take"], pending=None)


def keep(studio: Studio, index: int, take: int) -> None:
    """Keep take `take` of shot `index` (the render uses it)."""
    _, plan = _planned(studio)
    if not 0 <= index < len(plan.shots):
        raise StoryreelError(f"shot {index + 1} does not exist: the plan has shots 1 to {len(plan.shots)}")
    shot = plan.shots[index]
    known = [t["take"] for t in studio.takes.family(shot).get("takes", [])]
    if take not in known:
        raise StoryreelError(f"shot {index + 1} has no take {take + 1} yet (it has {len(known)})")
    studio.takes.update(shot, kept=take)


def outputs(studio: Studio) -> dict:
    """The studio's outputs on disk (relative to the storyboard's folder), for the page's players and links."""
    work, base = studio.project.work, studio.project.path.parent
    render, anim = Outputs.of(work / "render.mp4"), Outputs.of(work / "animatic.mp4")
    files = {"render": render.video, "otio": render.otio, "manifest": render.manifest,
             "contact_sheet": render.contact_sheet, "render_plan": render.plan, "animatic": anim.video}
    return {k: str(p.relative_to(base)) for k, p in files.items() if p.is_file()}


def thumbnail(studio: Studio, key: str) -> bytes | None:
    """A PNG of the middle frame of a take in the cache (None if it is not there)."""
    if key not in _THUMBS:
        clip = studio.project.cache.get(key)
        if clip is None:
            return None
        from PIL import Image  # deferred: only thumbnails need Pillow here

        frame = clip.frames[len(clip.frames) // 2]  # (H, W, 3) uint8
        im = Image.fromarray(frame)
        im.thumbnail((240, 240))
        buf = io.BytesIO()
        im.save(buf, "PNG")
        _THUMBS[key] = buf.getvalue()
    return _THUMBS[key]


def _job(job: Job) -> dict:
    return {"id": job.id, "kind": job.kind, "label": job.label, "state": job.state, "error": job.error}


def add_routes(app: FastAPI, studio: Studio) -> None:
    """The routes that queue work or change takes."""
    project = studio.project

    def submit(kind: str, label: str, fn) -> dict:
        return {"job": _job(studio.worker.submit(kind, label, fn))}

    @app.post("/api/generate")
    async def post_generate(request: Request) -> Any:
        body = await request.json()
        shots = body.get("shots")  # [i, ...] (0-based) or "all"
        if shots != "all" and not (isinstance(shots, list) and shots and all(isinstance(i, int) for i in shots)):
            return JSONResponse({"error": {"message": "shots: a list of shot indices, or \"all\""}}, 400)
        which = None if shots == "all" else sorted(set(shots))
        label = "all shots" if which is None else "shots " + ", ".join(str(i + 1) for i in which)
        return submit("generate", f"generate {label}", lambda job: generate(studio, job, which))

    @app.post("/api/reroll")
    async def post_reroll(request: Request) -> Any:
        i = int((await request.json())["shot"])
        return submit("reroll", f"re-roll shot {i + 1}", lambda job: generate(studio, job, [i], reroll=i))

    @app.post("/api/keep")
    async def post_keep(request: Request) -> Any:
        body = await request.json()
        try:
            keep(studio, int(body["shot"]), int(body["take"]))
        except StoryreelError as e:
            return JSONResponse({"error": {"message": e.format(), "field": None}}, 422)
        return plan_view(project.snapshot, studio.takes) | {"jobs": outputs(studio)}

    @app.post("/api/animatic")
    def post_animatic() -> dict:
        out = project.work / "animatic.mp4"

        def run(job: Job) -> object:
            project.work.mkdir(parents=True, exist_ok=True)
            return pipeline.animatic(project.path, out, size=ANIMATIC_SIZE, progress=studio.worker.progress(job))
        return submit("animatic", "animatic", run)

    @app.post("/api/render")
    def post_render() -> dict:
        out = project.work / "render.mp4"

        def run(job: Job) -> object:
            _, plan = _planned(studio)
            project.work.mkdir(parents=True, exist_ok=True)
            generate(studio, job, None)  # every take recorded as it is made; the render then reads the cache
            plan = _planned(studio)[1]
            rep = pipeline.render(project.path, out, _options(studio, plan), progress=studio.worker.progress(job))
            _record_render(studio, plan, Outputs.of(out).plan)
            return {"stages": rep.stages, "generated": rep.generated, "cached": rep.cached}
        return submit("render", "render", run)

    @app.get("/api/jobs")
    def get_jobs() -> list:
        return [_job(j) | {"stages": j.stages} for j in studio.worker.jobs.values()]
