"""Luma through the real lumaai SDK against a local server (the cases of provider_cases), keyframes frame0/frame1."""

from __future__ import annotations

import numpy as np
import pytest

import hosted_cases as cases
from hosted_server import GenericAPI, Reply, mp4_bytes
from storyreel.models.base import GenerationRequest
from storyreel.models.hosted import HostedOptions, open_model

pytest.importorskip("lumaai")

W, H = 1280, 720
REQ = GenerationRequest("a lighthouse at dusk", seed=5, height=H, width=W, frames=25)


class LumaAPI(GenericAPI):
    """dream-machine v1: POST /generations/video, GET /generations/ID."""

    def __init__(self, video: bytes) -> None:
        super().__init__(video)

        @self.route("POST", r"/generations/video")
        def submit(req):
            jid = self.accept(req, "gen")
            return jid if isinstance(jid, Reply) else {"id": jid, "state": "queued"}

        @self.route("GET", r"/generations/([\w-]+)")
        def generation(req, jid):
            state = self.state(jid)
            if state == "running":
                return {"id": jid, "state": "dreaming"}
            if state in {"failed", "refused"}:
                return {"id": jid, "state": "failed", "failure_reason": self.reason}
            return {"id": jid, "state": "completed", "assets": {"video": f"{self.url}/cdn/{jid}.mp4"}}

        self.route("GET", r"/cdn/[\w-]+\.mp4")(lambda req: Reply(200, self.video))


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return mp4_bytes(tmp_path_factory.mktemp("luma"), W, H, 25, 24)


@pytest.fixture()
def api(video, monkeypatch, tmp_path):
    monkeypatch.setenv("LUMAAI_API_KEY", "test-key")
    monkeypatch.setenv("STORYREEL_CACHE", str(tmp_path / "cache"))
    with LumaAPI(video) as server:
        yield server


def factory(api):
    def make():
        m = open_model("luma-ray-2", HostedOptions(base_url=api.url, poll_interval=0.5, backoff=0.25))
        m.sleep = lambda s: None
        return m
    return make


def test_submit_poll_download(api):
    cases.submit_poll_download(api, factory(api), REQ)
    (body,) = [j["body"] for j in api.jobs.values()]
    assert (body["model"], body["duration"], body["resolution"], body["aspect_ratio"]) == ("ray-2", "5s", "720p",
                                                                                           "16:9")


def test_keyframes_frame0_and_frame1(api):
    first, last = np.full((1, H, W, 3), 30, np.uint8), np.full((1, H, W, 3), 220, np.uint8)
    factory(api)().generate(GenerationRequest("bridge", height=H, width=W, frames=25, first_frames=first,
                                              last_frames=last))
    keys = api.jobs["gen-1"]["body"]["keyframes"]
    assert set(keys) == {"frame0", "frame1"}
    assert all(k["type"] == "image" and k["url"].startswith("data:image/png;base64,") for k in keys.values())


def test_rate_limited_then_accepted(api):
    cases.rate_limited_then_accepted(api, factory(api), REQ)


def test_provider_failure(api):
    cases.provider_failure(api, factory(api), REQ)


def test_refusal(api):
    cases.refusal(api, factory(api), REQ)


def test_kill_and_resume(api):
    cases.kill_and_resume(api, factory(api), REQ)


def test_missing_key(api, monkeypatch):
    cases.missing_key(api, factory(api), REQ, monkeypatch, "LUMAAI_API_KEY")
