"""The studio's HTTP API: the token, the sandbox, reading the song and plan, edits, stale writes, outside edits."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from fakes import STUDIO_TOKEN as TOKEN
from storyreel.errors import StoryreelError
from storyreel.storyboard import load_storyboard
from storyreel.studio.app import COOKIE, create_app


@pytest.mark.parametrize("path", ["/", "/api/plan", "/api/song", "/api/song/audio", "/static/app.js",
                                  "/api/file?root=project&path=song.wav", "/api/events/poll"])
def test_every_request_without_the_token_is_refused(studio, path):
    with TestClient(create_app(studio, TOKEN)) as anonymous:
        assert anonymous.get(path).status_code == 401
        assert anonymous.get(path, headers={"X-Storyreel-Token": "wrong"}).status_code == 401
        assert anonymous.post("/api/edit", json={}).status_code == 401


def test_the_token_in_the_url_becomes_a_cookie(studio):
    with TestClient(create_app(studio, TOKEN)) as browser:
        page = browser.get(f"/?token={TOKEN}")
        assert page.status_code == 200 and "storyreel studio" in page.text
        assert browser.cookies.get(COOKIE) == TOKEN
        assert browser.get("/api/plan").status_code == 200  # the cookie alone now


@pytest.mark.parametrize("root,path", [("project", "../secret.txt"), ("project", "/etc/passwd"),
                                       ("project", "link.txt"), ("cache", "../project/song.wav"),
                                       ("elsewhere", "x")])
def test_paths_that_escape_are_refused(client, board, root, path):
    (board.parent.parent / "secret.txt").write_text("TOP-SECRET-CONTENT")
    (board.parent / "link.txt").symlink_to(board.parent.parent / "secret.txt")
    r = client.get("/api/file", params={"root": root, "path": path})
    assert r.status_code == 403, r.text
    assert "TOP-SECRET-CONTENT" not in r.text


def test_a_file_inside_is_served(client):
    r = client.get("/api/file", params={"root": "project", "path": "board.yaml"})
    assert r.status_code == 200 and "Studio test" in r.text


def test_the_song_and_the_plan(client):
    song = client.get("/api/song").json()
    assert 110 < song["tempo"] < 130 and len(song["beats"]) >= 14 and len(song["peaks"]) == 2000
    assert song["downbeats"] and song["duration"] == pytest.approx(8.0, abs=0.05)
    assert set(song["confidence"]) == {"tempo", "meter", "downbeat"}  # the analysis's own confidences
    plan = client.get("/api/plan").json()
    assert plan["error"] is None
    assert [s["source"] for s in plan["shots"]] == [["shots", 0], ["shots", 1], ["shots", 2]]
    assert plan["shots"][0]["prompt"].startswith("a red heart stays still")  # {she} substituted, as the CLI plans
    assert plan["shots"][2]["spec"] == {"prompt": "a green star grows"}
    assert client.get("/api/song/audio").content[:4] == b"RIFF"


def _edit(client, version, loc, value):
    return client.post("/api/edit", json={"version": version, "edits": [{"loc": loc, "value": value}]})


def test_an_edit_re_plans_and_writes_the_file_with_its_comments(client, board):
    v = client.get("/api/plan").json()["version"]
    r = _edit(client, v, ["shots", 1, "prompt"], "a purple circle moves left")
    assert r.status_code == 200
    assert r.json()["shots"][1]["text"] == "a purple circle moves left" and r.json()["version"] != v
    text = board.read_text()
    assert "a purple circle moves left" in text and "# the opening" in text and "# plain-string shot" in text
    length = _edit(client, r.json()["version"], ["shots", 0, "length"], "2 bars").json()
    assert length["shots"][0]["end"] > r.json()["shots"][0]["end"]  # the lane moved


def test_a_bad_edit_gives_the_clis_line_and_writes_nothing(client, board):
    before = board.read_text()
    v = client.get("/api/plan").json()["version"]
    r = _edit(client, v, ["shots", 1, "length"], "2 barz")
    assert r.status_code == 422
    (board.parent / "bad.yaml").write_text(before.replace("length: 1 bar\n", "length: 2 barz\n"))
    with pytest.raises(StoryreelError) as cli:
        load_storyboard(board.parent / "bad.yaml")
    assert r.json()["error"]["message"] == cli.value.format().replace("bad.yaml", "board.yaml")
    assert r.json()["error"]["field"] == "shots[1].length"
    assert board.read_text() == before
    too_long = _edit(client, v, ["shots", 0, "length"], "9 bars")  # parses, but does not fit the song
    assert too_long.status_code == 422 and "does not fit" in too_long.json()["error"]["message"]
    assert board.read_text() == before


def test_two_tabs_writing_at_once_one_is_refused(client, board):
    v = client.get("/api/plan").json()["version"]
    first = _edit(client, v, ["shots", 0, "prompt"], "{she} grows")
    second = _edit(client, v, ["shots", 0, "prompt"], "{she} shrinks")  # made against the same version
    assert first.status_code == 200 and second.status_code == 409
    assert "changed since" in second.json()["error"]["message"]
    assert "{she} grows" in board.read_text() and "shrinks" not in board.read_text()


def test_an_edit_in_a_text_editor_reaches_the_page(client, board):
    last = client.get("/api/events/poll").json()
    after = last[-1]["seq"] if last else 0
    board.write_text(board.read_text().replace("a green star grows", "a white circle shrinks"))
    deadline, events = time.time() + 10, []
    while time.time() < deadline and not any(e["type"] == "storyboard" for e in events):
        events += client.get("/api/events/poll", params={"after": after, "wait": 2}).json()
        after = events[-1]["seq"] if events else after
    assert any(e["type"] == "storyboard" for e in events)
    assert client.get("/api/plan").json()["shots"][2]["text"] == "a white circle shrinks"


def test_an_outside_edit_that_breaks_the_board_shows_its_error(client, board):
    board.write_text(board.read_text().replace("length: 1 bar\n", "length: 1 barz\n"))
    deadline = time.time() + 10
    while time.time() < deadline and client.get("/api/plan").json()["error"] is None:
        time.sleep(0.1)
    err = client.get("/api/plan").json()["error"]
    assert err and "board.yaml:" in err["message"] and "shots[1].length" in err["message"]


def test_corrections_accept_only_song_overrides(client, board):
    v = client.get("/api/plan").json()["version"]
    assert client.post("/api/correct", json={"version": v, "key": "model", "value": "x"}).status_code == 400
    r = client.post("/api/correct", json={"version": v, "key": "beats_per_bar", "value": 2})
    assert r.status_code == 200, r.text
    assert "beats_per_bar: 2" in board.read_text() and client.get("/api/song").json()["beats_per_bar"] == 2


def test_corrections_of_tempo_downbeat_and_sections_change_the_song_and_plan(client, board):
    v = client.get("/api/plan").json()["version"]
    r = client.post("/api/correct", json={"version": v, "key": "downbeat_offset", "value": 0.5})
    assert r.status_code == 200, r.text
    song = client.get("/api/song").json()
    assert abs(song["downbeats"][0] - 0.5) < 0.03 and "downbeat_offset: 0.5" in board.read_text()
    r = client.post("/api/correct", json={"version": r.json()["version"], "key": "tempo", "value": 90})
    assert r.status_code == 200, r.text
    assert abs(client.get("/api/song").json()["tempo"] - 90) < 1
    r = client.post("/api/correct", json={"version": r.json()["version"], "key": "section_starts", "value": [0, 4.5]})
    assert r.status_code == 200, r.text
    assert len(client.get("/api/song").json()["sections"]) == 2
    bad = client.post("/api/correct", json={"version": r.json()["version"], "key": "tempo", "value": 5000})
    assert bad.status_code == 422 and "board.yaml" in bad.json()["error"]["message"]


def test_the_studios_own_writes_are_not_taken_for_outside_edits(client):
    v = client.get("/api/plan").json()["version"]
    for word in ("grows", "shrinks", "stays still", "moves left", "moves up"):
        v = _edit(client, v, ["shots", 0, "prompt"], "{she} " + word).json()["version"]
    time.sleep(0.7)  # two turns of the watch
    assert not [e for e in client.get("/api/events/poll").json() if e["type"] == "storyboard"]
