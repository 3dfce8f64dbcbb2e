"""Runway through the real `runwayml` SDK against a local server: submit, poll, download, retries, failures,
a kill during polling and the resume that submits nothing new, a missing key."""

from __future__ import annotations

import numpy as np
import pytest

from hosted_server import Reply, RunwayAPI, mp4_bytes
from storyreel.errors import StoryreelError
from storyreel.models.base import GenerationRequest
from storyreel.models.hosted import MODELS, HostedOptions, open_model
from storyreel.models.hosted.jobstore import request_key

pytest.importorskip("runwayml")

W, H, FPS = 1280, 720, 24


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return mp4_bytes(tmp_path_factory.mktemp("runway"), W, H, 25, FPS)


@pytest.fixture()
def api(video, monkeypatch, tmp_path):
    monkeypatch.setenv("RUNWAYML_API_SECRET", "test-key")
    monkeypatch.setenv("STORYREEL_CACHE", str(tmp_path / "cache"))
    with RunwayAPI(video) as server:
        yield server


def model(api, name="runway-gen4.5", sleeps=None):
    m = open_model(name, HostedOptions(base_url=api.url, poll_interval=0.5, backoff=0.25))
    m.sleep = (lambda s: sleeps.append(s)) if sleeps is not None else (lambda s: None)
    return m


def test_text_to_video_submits_polls_downloads_and_records_the_job(api, tmp_path):
    m = model(api)
    req = GenerationRequest("a lighthouse at dusk", seed=3, height=H, width=W, frames=25)
    clip = m.generate(req)
    assert clip.frames.shape == (25, H, W, 3) and clip.fps == FPS
    assert clip.info["job_id"] == "task-1" and clip.info["billed_seconds"] == 2.0 and not clip.info["resumed_job"]
    body = api.tasks["task-1"]["body"]
    assert (body["model"], body["ratio"], body["duration"], body["promptText"]) == ("gen4.5", "1280:720", 2,
                                                                                  "a lighthouse at dusk")
    rec = m.jobs.get(request_key(m.identity(), req))
    assert rec.job_id == "task-1" and rec.state == "succeeded" and len(rec.sha256) == 64
    assert m.jobs.root == tmp_path / "cache" / "jobs"
    again = model(api).generate(req)  # the finished video is on disk: no new submission, no download
    assert api.submissions() == 1 and api.count("GET", r"/files/.*") == 1
    assert np.array_equal(again.frames, clip.frames)


def test_image_to_video_uploads_the_handoff_frame_and_lands_on_a_last_frame(api):
    m = model(api, "runway-veo3.1")
    first = np.full((1, H, W, 3), 40, np.uint8)
    last = np.full((1, H, W, 3), 200, np.uint8)
    clip = m.generate(GenerationRequest("the bridge", height=H, width=W, frames=25, first_frames=first,
                                        last_frames=last))
    body = api.tasks["task-1"]["body"]
    assert api.tasks["task-1"]["kind"] == "image_to_video" and body["duration"] == 4
    assert [p["position"] for p in body["promptImage"]] == ["first", "last"]
    assert all(p["uri"] == "runway://upload/1" for p in body["promptImage"]) and api.count("POST", "/s3") == 2
    assert clip.frames.shape == (25, H, W, 3)


def test_a_429_is_retried_after_the_servers_hint_and_charged_once(api):
    api.submit_errors = [Reply(429, {"error": "slow down"}, {"retry-after": "3"}),
                         Reply(503, {"error": "busy"})]
    sleeps = []
    model(api, sleeps=sleeps).generate(GenerationRequest("rain", height=H, width=W, frames=25))
    assert sleeps[:2] == [3.0, 0.5]  # the server's Retry-After, then backoff (0.25 * 2^1)
    assert len(api.tasks) == 1


def test_a_provider_side_failure_is_reported_and_never_resubmitted(api):
    api.script, api.failure = ["RUNNING", "FAILED"], ("The GPU worker crashed", "INTERNAL")
    req = GenerationRequest("storm", height=H, width=W, frames=25)
    with pytest.raises(StoryreelError, match=r"task-1 failed on the provider's side: The GPU worker crashed"):
        model(api).generate(req)
    with pytest.raises(StoryreelError, match="not resubmitted"):
        model(api).generate(req)
    assert api.submissions() == 1


def test_a_refused_prompt_is_a_one_line_content_policy_error(api):
    api.script, api.failure = ["FAILED"], ("Prompt flagged", "SAFETY.INPUT.TEXT")
    with pytest.raises(StoryreelError, match=r"refused the prompt under its content policy: Prompt flagged") as e:
        model(api).generate(GenerationRequest("something", height=H, width=W, frames=25))
    assert "\n" not in str(e.value)


class Killed(BaseException):
    """The process dying while it waits."""


def test_a_render_killed_while_polling_resumes_the_same_job(api):
    api.script = ["RUNNING", "RUNNING", "SUCCEEDED"]
    req = GenerationRequest("waves", height=H, width=W, frames=25)
    first = model(api)

    def die(seconds):
        raise Killed()

    first.sleep = die
    with pytest.raises(Killed):
        first.generate(req)
    assert first.submissions == 1 and first.jobs.get(request_key(first.identity(), req)).state == "submitted"
    second = model(api)  # a new process
    clip = second.generate(req)
    assert second.submissions == 0 and api.submissions() == 1
    assert clip.info["job_id"] == "task-1" and clip.info["resumed_job"]


def test_a_missing_key_stops_before_any_request(api, monkeypatch):
    monkeypatch.delenv("RUNWAYML_API_SECRET")
    m = model(api)
    with pytest.raises(StoryreelError, match="RUNWAYML_API_SECRET") as e:
        m.check_available()
    assert "\n" not in str(e.value)
    with pytest.raises(StoryreelError, match="RUNWAYML_API_SECRET"):
        m.generate(GenerationRequest("x", height=H, width=W, frames=25))
    assert api.calls == []


def test_sizes_and_durations_off_the_documented_ones_are_refused():
    m = open_model("runway-gen4.5")
    with pytest.raises(StoryreelError, match="1280x720, 720x1280"):
        m.check_request(GenerationRequest("x", height=480, width=832, frames=25))
    with pytest.raises(StoryreelError, match="at most 10 s"):
        m.check_request(GenerationRequest("x", height=H, width=W, frames=260))
    assert m.size_for(320, 180) == (720, 1280) and m.size_for(180, 320) == (1280, 720)
    assert MODELS["runway-veo3.1"].capabilities >= {"connect", "i2v"}


@pytest.mark.parametrize("limit", [1, 2])
def test_max_concurrent_bounds_the_jobs_in_flight_per_provider(api, limit):
    import threading

    api.script = ["RUNNING", "RUNNING", "SUCCEEDED"]
    m = open_model("runway-gen4.5", HostedOptions(base_url=api.url, poll_interval=0.05, backoff=0.25,
                                                  max_concurrent=limit))
    reqs = [GenerationRequest(f"shot {i}", height=H, width=W, frames=25) for i in range(2)]
    threads = [threading.Thread(target=m.generate, args=(r,)) for r in reqs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    order = [c.path for c in api.calls if c.method == "POST" and "to_video" in c.path or c.path.startswith("/files")]
    first_download = next(i for i, p in enumerate(order) if p.startswith("/files"))
    submits_before = sum(1 for p in order[:first_download] if "to_video" in p)
    assert submits_before == limit and api.submissions() == 2 and m.parallel_jobs == limit
