"""Fixtures of the studio's tests: a Studio over a small project, and its app behind FastAPI's TestClient."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi", reason="the studio extra is not installed (pip install 'storyreel[studio]')")

from fastapi.testclient import TestClient  # noqa: E402

from fakes import STUDIO_TOKEN as TOKEN, studio_project  # noqa: E402
from storyreel.studio.app import create_app  # noqa: E402
from storyreel.studio.session import Studio  # noqa: E402

@pytest.fixture()
def board(tmp_path, monkeypatch):
    return studio_project(tmp_path, monkeypatch)

@pytest.fixture()
def studio(board):
    s = Studio(board)
    yield s
    s.close()

@pytest.fixture()
def client(studio):
    with TestClient(create_app(studio, TOKEN), headers={"X-Storyreel-Token": TOKEN}) as c:
        yield c


@pytest.fixture(scope="session")
def chromium():
    """One headless chromium for the session (Debian's package); the tests skip, saying why, without it."""
    from fakes import ARGS, CHROMIUM, chromium_missing

    why = chromium_missing()
    if why:
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def running(board):
    """The studio on `board`, served by uvicorn on a free loopback port."""
    from fakes import Running
    from storyreel.studio.server import make_server

    with Running(make_server(board, port=0, token=TOKEN)) as r:
        yield r


@pytest.fixture()
def page(chromium, running):
    """A fresh browser page with the studio open and ready (its errors fail the test)."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(running.url)
    pg.wait_for_selector("body[data-ready='1']", timeout=30_000)
    pg.studio_url = running.url
    yield pg
    context.close()
    assert not errors, errors
