"""Generating from the studio: one shot, re-rolls, keeping a take, all through the CLI's take cache."""

from __future__ import annotations

from storyreel.pipeline import RenderOptions, render


def _run(client, path, body):
    job = client.post(path, json=body).json()["job"]
    events, after = [], 0
    while not any(e.get("id") == job["id"] and e["state"] in ("done", "failed") for e in events):
        events += client.get("/api/events/poll", params={"after": after, "wait": 5}).json()
        after = events[-1]["seq"] if events else after
    final = [e for e in events if e.get("id") == job["id"]][-1]
    assert final["state"] == "done", final["error"]
    return events


def test_generate_one_shot_then_reroll_and_keep_the_second_take(client, studio):
    events = _run(client, "/api/generate", {"shots": [1]})
    gen = [e for e in events if e.get("stage") == "generation"]
    assert gen and gen[-1]["stages"]["generation"]["done"] == 1  # progress streamed
    shot = client.get("/api/plan").json()["shots"][1]
    assert shot["kept"] == 0 and len(shot["takes"]) == 1
    thumb = client.get(f"/api/thumb/{shot['takes'][0]['key']}.png")
    assert thumb.status_code == 200 and thumb.content[:4] == b"\x89PNG"
    assert client.get("/api/plan").json()["shots"][0]["takes"] == []  # only the asked shot was made

    _run(client, "/api/reroll", {"shot": 1})
    shot = client.get("/api/plan").json()["shots"][1]
    assert [t["take"] for t in shot["takes"]] == [0, 1] and shot["kept"] == 0
    assert shot["takes"][1]["seed"] != shot["takes"][0]["seed"]
    assert all(t["score"] is not None for t in shot["takes"])  # scored side by side
    kept = client.post("/api/keep", json={"shot": 1, "take": 1}).json()
    assert kept["shots"][1]["kept"] == 1
    assert client.post("/api/keep", json={"shot": 1, "take": 5}).status_code == 422


def test_the_cli_render_reuses_the_studios_takes(client, studio, board, tmp_path):
    _run(client, "/api/generate", {"shots": "all"})
    rep = render(board, tmp_path / "out" / "v.mp4", RenderOptions(cache_dir=studio.project.cache.root))
    assert rep.generated == 0 and rep.cached == 3


def test_a_shot_stopped_mid_generation_is_shown_and_resumes_from_the_cache(client, studio):
    _run(client, "/api/generate", {"shots": [0]})
    shot = studio.project.snapshot.plan.shots[0]
    studio.takes.update(shot, pending=True, kept=None, takes=None)  # as if killed after the take was stored
    assert client.get("/api/plan").json()["shots"][0]["pending"] is True
    _run(client, "/api/generate", {"shots": [0]})
    shot_view = client.get("/api/plan").json()["shots"][0]
    assert shot_view["pending"] is False and shot_view["kept"] == 0


def test_unknown_shots_are_refused(client):
    assert client.post("/api/generate", json={"shots": "some"}).status_code == 400
    job = client.post("/api/generate", json={"shots": [9]}).json()["job"]
    events, after = [], 0
    while not any(e.get("id") == job["id"] and e["state"] == "failed" for e in events):
        events += client.get("/api/events/poll", params={"after": after, "wait": 5}).json()
        after = events[-1]["seq"] if events else after
    assert "shot 10 does not exist" in [e for e in events if e.get("id") == job["id"]][-1]["error"]
