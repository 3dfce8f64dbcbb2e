"""Google Veo through the real google-genai SDK (Vertex AI express mode) against a local server (the cases of provider_cases)."""

from __future__ import annotations

import base64

import numpy as np
import pytest

import hosted_cases as cases
from hosted_server import GenericAPI, Reply, mp4_bytes
from storyreel.models.base import GenerationRequest
from storyreel.models.hosted import HostedOptions, open_model

pytest.importorskip("google.genai")

W, H = 1280, 720
REQ = GenerationRequest("a lighthouse at dusk", seed=5, height=H, width=W, frames=25)


class VeoAPI(GenericAPI):
    """Vertex AI (express mode) v1beta1: publishers/google/models/M:predictLongRunning, :fetchPredictOperation."""

    def __init__(self, video: bytes) -> None:
        super().__init__(video)
        prefix = "projects/p/locations/us-central1/publishers/google/models"

        @self.route("POST", r"/v1beta1/publishers/google/models/([\w.-]+):predictLongRunning")
        def submit(req, model):
            jid = self.accept(req, "op")
            return jid if isinstance(jid, Reply) else {"name": f"{prefix}/{model}/operations/{jid}"}

        @self.route("POST", r"/v1beta1/.*/models/([\w.-]+):fetchPredictOperation")
        def operation(req, model):
            name = req.json()["operationName"]
            state = self.state(name.rsplit("/", 1)[1])
            if state == "running":
                return {"name": name, "done": False}
            if state == "failed":
                return {"name": name, "done": True, "error": {"code": 13, "message": self.reason}}
            if state == "refused":
                return {"name": name, "done": True, "response": {"raiMediaFilteredCount": 1,
                                                                  "raiMediaFilteredReasons": [self.reason]}}
            video = base64.b64encode(self.video).decode()
            return {"name": name, "done": True, "response": {"videos": [{"bytesBase64Encoded": video,
                                                                         "mimeType": "video/mp4"}]}}


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return mp4_bytes(tmp_path_factory.mktemp("veo"), W, H, 25, 24)


@pytest.fixture()
def api(video, monkeypatch, tmp_path):
    monkeypatch.setenv("GOOGLE_API_KEY", "test-key")
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.setenv("STORYREEL_CACHE", str(tmp_path / "cache"))
    with VeoAPI(video) as server:
        yield server


def factory(api):
    def make():
        m = open_model("veo-3.1", HostedOptions(base_url=api.url, poll_interval=0.5, backoff=0.25))
        m.sleep = lambda s: None
        return m
    return make


def test_submit_poll_download(api):
    cases.submit_poll_download(api, factory(api), REQ)
    (body,) = [j["body"] for j in api.jobs.values()]
    assert body["instances"][0]["prompt"] == REQ.prompt and body["parameters"]["durationSeconds"] == 4
    assert body["parameters"]["aspectRatio"] == "16:9"


def test_image_last_frame_and_character_reference_reach_the_request(api):
    first, last = np.full((1, H, W, 3), 30, np.uint8), np.full((1, H, W, 3), 220, np.uint8)
    ref = np.full((64, 64, 3), 128, np.uint8)
    req = GenerationRequest("bridge", height=H, width=W, frames=25, first_frames=first, last_frames=last,
                            reference_image=ref)
    clip = factory(api)().generate(req)
    inst = api.jobs["op-1"]["body"]["instances"][0]
    for part in (inst["image"], inst["lastFrame"], inst["referenceImages"][0]["image"]):
        assert base64.b64decode(part["bytesBase64Encoded"])[:4] == b"\x89PNG"
    assert inst["referenceImages"][0]["referenceType"] == "ASSET" and clip.info["reference_image"]


def test_rate_limited_then_accepted(api):
    cases.rate_limited_then_accepted(api, factory(api), REQ)


def test_provider_failure(api):
    cases.provider_failure(api, factory(api), REQ)


def test_refusal(api):
    cases.refusal(api, factory(api), REQ)


def test_kill_and_resume(api):
    cases.kill_and_resume(api, factory(api), REQ)


def test_missing_key(api, monkeypatch):
    cases.missing_key(api, factory(api), REQ, monkeypatch, "GOOGLE_API_KEY")
