"""The studio's HTTP routes: the page, the song, the plan, edits, files; the token on every request.

Nothing here plans, generates or renders by itself: edits go through
`Project.edit` (the pipeline's planning), long work through the worker
(`actions`). Every request needs the studio's token (query `token`, then a
cookie; or the `X-Storyreel-Token` header); paths go through the sandbox.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from ..errors import StoryreelError
from . import actions
from .boundary import boundary_edits
from .sandbox import Forbidden
from .session import Studio
from .view import correctable, plan_view, song_view
from .yaml_doc import Stale

COOKIE = "storyreel_studio"
HEADER = "x-storyreel-token"
STATIC = Path(str(resources.files("storyreel.studio") / "static"))
KEY = re.compile(r"^[0-9a-f]{16,64}$")


def _error(status: int, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "field": field}}, status_code=status)


def create_app(studio: Studio, token: str) -> FastAPI:
    """The FastAPI app serving `studio`; every request must carry `token`."""
    app = FastAPI(title="storyreel studio", docs_url=None, redoc_url=None, openapi_url=None)
    project = studio.project

    @app.middleware("http")
    async def require_token(request: Request, call_next):
        given = request.query_params.get("token") or request.headers.get(HEADER) or request.cookies.get(COOKIE)
        if not given or not secrets.compare_digest(given, token):
            return Response("storyreel studio: open the URL with the token that `storyreel studio` printed\n",
                            status_code=401, media_type="text/plain")
        response = await call_next(request)
        if request.query_params.get("token"):
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return response

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return HTMLResponse((STATIC / "index.html").read_text(), headers={"Cache-Control": "no-store"})

    @app.get("/api/plan")
    def get_plan() -> dict:
        return plan_view(project.snapshot, studio.takes) | {"jobs": actions.outputs(studio)}

    @app.get("/api/song")
    def get_song() -> Any:
        snap = project.snapshot
        if snap.music is None:
            return _error(422, snap.error.format() if snap.error else "the song is not analysed")
        return song_view(snap.music, snap.job.song)

    @app.get("/api/song/audio")
    def song_audio() -> Any:
        snap = project.snapshot
        if snap.job is None:
            return _error(422, "the storyboard does not plan, so its song is unknown")
        return FileResponse(snap.job.song)

    @app.get("/api/storyboard")
    def storyboard_text() -> dict:
        snap = project.snapshot
        return {"version": snap.version, "text": snap.text}

    def _edit(body: dict, edits: list[tuple[list, Any]], **extra) -> Any:
        try:
            snap = project.edit(str(body.get("version", "")), edits)
        except Stale as e:
            project.load()
            return _error(409, str(e))
        except StoryreelError as e:
            return _error(422, e.format(), e.field)
        return plan_view(snap, studio.takes) | extra

    @app.post("/api/edit")
    async def edit(request: Request) -> Any:
        body = await request.json()
        try:
            edits = [(list(e["loc"]), e.get("value")) for e in body.get("edits", [])]
        except (KeyError, TypeError):
            return _error(400, "an edit is {loc: [...], value: ...}")
        if not edits or any(not loc or not all(isinstance(k, (str, int)) for k in loc) for loc, _ in edits):
            return _error(400, "an edit needs a location: a list of keys and indices")
        return await asyncio.to_thread(_edit, body, edits)

    @app.post("/api/boundary")
    async def boundary(request: Request) -> Any:
        body = await request.json()
        snap = project.snapshot
        if snap.plan is None:
            return _error(422, snap.error.format() if snap.error else "nothing is planned")
        try:
            edits, beat = boundary_edits(snap.plan, snap.music, int(body["shot"]), float(body["time"]),
                                         str(body.get("snap", "beat")))
        except StoryreelError as e:
            return _error(422, e.format(), e.field)
        except (KeyError, TypeError, ValueError):
            return _error(400, "a boundary move is {version, shot, time, snap}")
        return await asyncio.to_thread(_edit, body, edits, snapped_beat=beat)

    @app.post("/api/correct")
    async def correct(request: Request) -> Any:
        body = await request.json()
        key = body.get("key")
        if key not in correctable():
            return _error(400, f"the storyboard cannot override {key!r} (it can: {', '.join(correctable())})")
        return await asyncio.to_thread(_edit, body, [([key], body.get("value"))])

    @app.get("/api/file")
    def get_file(root: str, path: str) -> Any:
        try:
            target = project.sandbox.resolve(root, path)
        except Forbidden as e:
            return _error(403, str(e))
        if not target.is_file():
            return _error(404, f"no such file: {path}")
        return FileResponse(target, headers={"Cache-Control": "no-store"})

    @app.get("/api/thumb/{key}.png")
    def thumb(key: str) -> Any:
        if not KEY.match(key):
            return _error(403, "not a take key")
        png = actions.thumbnail(studio, key)
        if png is None:
            return _error(404, "no such take in the cache")
        return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=86400"})

    @app.get("/api/events")
    async def events(request: Request, after: int = 0) -> StreamingResponse:
        """Server-sent events: job progress and storyboard changes, from event number `after`."""
        async def stream():
            seq = after
            yield "retry: 1000\n\n"
            while not await request.is_disconnected():
                batch = await asyncio.to_thread(studio.bus.wait, seq, 0.5)  # short: a closed page is noticed soon
                for ev in batch:
                    seq = ev["seq"]
                    yield f"id: {seq}\ndata: {json.dumps(ev)}\n\n"
                if not batch:
                    yield ": idle\n\n"
        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    @app.get("/api/events/poll")
    def poll(after: int = 0, wait: float = 0.0) -> list:
        """The same events as JSON (for scripts and tests)."""
        return studio.bus.wait(after, min(wait, 10.0)) if wait else studio.bus.since(after)

    actions.add_routes(app, studio)
    return app
