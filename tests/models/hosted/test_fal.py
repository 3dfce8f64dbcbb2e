"""fal through the real fal-client SDK against a local HTTPS server (the cases of hosted_cases).

fal-client's queue address is https://$FAL_QUEUE_RUN_HOST/, read when it is imported: this module sets that
variable to a local port before anything imports the SDK (collection runs before any test), and the tests
trust the server's self-signed certificate through SSL_CERT_FILE, which httpx reads."""

from __future__ import annotations

import os
import socket
import sys

import numpy as np
import pytest

import hosted_cases as cases
from hosted_server import GenericAPI, Reply, mp4_bytes, self_signed
from storyreel.models.base import GenerationRequest
from storyreel.models.hosted import HostedOptions, open_model

W, H = 1280, 720
REQ = GenerationRequest("a lighthouse at dusk", seed=5, height=H, width=W, frames=25)
APP = "fal-ai/kling-video/v2.1/master/text-to-video"

with socket.socket() as _s:
    _s.bind(("127.0.0.1", 0))
    PORT = _s.getsockname()[1]
if "fal_client" not in sys.modules:
    os.environ["FAL_QUEUE_RUN_HOST"] = f"127.0.0.1:{PORT}"
fal_client = pytest.importorskip("fal_client")
pytestmark = pytest.mark.skipif(os.environ.get("FAL_QUEUE_RUN_HOST") != f"127.0.0.1:{PORT}",
                                reason="fal_client was imported before its queue host could be set")


class FalAPI(GenericAPI):
    """fal's queue: POST /APP -> request; GET /OWNER/ALIAS/requests/ID/status; GET .../requests/ID."""

    def __init__(self, video: bytes, tls) -> None:
        super().__init__(video, tls=tls, port=PORT)

        @self.route("POST", r"/(fal-ai/[\w./-]+)")
        def submit(req, app):
            jid = self.accept(req, "req")
            if isinstance(jid, Reply):
                return jid
            self.jobs[jid]["app"] = app
            base = f"{self.url}/fal-ai/kling-video/requests/{jid}"
            return {"request_id": jid, "response_url": base, "status_url": base + "/status",
                    "cancel_url": base + "/cancel"}

        @self.route("GET", r"/fal-ai/[\w-]+/requests/([\w-]+)/status")
        def status(req, jid):
            state = self.state(jid)
            if state == "running":
                return {"status": "IN_PROGRESS", "logs": []}
            if state == "failed":
                return {"status": "COMPLETED", "logs": [], "error": self.reason, "error_type": "runner_error"}
            if state == "refused":
                return {"status": "COMPLETED", "logs": [], "error": self.reason, "error_type": "content_policy_violation"}
            return {"status": "COMPLETED", "logs": [], "metrics": {}}

        self.route("GET", r"/fal-ai/[\w-]+/requests/([\w-]+)")(
            lambda req, jid: {"video": {"url": f"{self.url}/cdn/{jid}.mp4"}})
        self.route("GET", r"/cdn/[\w-]+\.mp4")(lambda req: Reply(200, self.video))


@pytest.fixture(scope="module")
def material(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fal")
    return mp4_bytes(folder, W, H, 25, 24), self_signed(folder)


@pytest.fixture()
def api(material, monkeypatch, tmp_path):
    video, tls = material
    monkeypatch.setenv("FAL_KEY", "test-id:test-secret")
    monkeypatch.setenv("SSL_CERT_FILE", tls[0])
    monkeypatch.setenv("STORYREEL_CACHE", str(tmp_path / "cache"))
    with FalAPI(video, tls) as server:
        yield server


def factory(name="fal-kling-2.1"):
    def make():
        m = open_model(name, HostedOptions(poll_interval=0.5, backoff=0.25))
        m.sleep = lambda s: None
        return m
    return make


def test_submit_poll_download(api):
    cases.submit_poll_download(api, factory(), REQ)
    (job,) = api.jobs.values()
    assert job["app"] == APP and job["body"] == {"prompt": REQ.prompt, "duration": "5", "aspect_ratio": "16:9"}


def test_image_and_tail_image_reach_the_pro_model(api):
    first, last = np.full((1, H, W, 3), 30, np.uint8), np.full((1, H, W, 3), 220, np.uint8)
    factory("fal-kling-2.1-pro")().generate(GenerationRequest("bridge", height=H, width=W, frames=25,
                                                              first_frames=first, last_frames=last))
    body = api.jobs["req-1"]["body"]
    assert api.jobs["req-1"]["app"] == "fal-ai/kling-video/v2.1/pro/image-to-video"
    assert body["image_url"].startswith("data:image/png;base64,") and body["tail_image_url"] != body["image_url"]


def test_rate_limited_then_accepted(api):
    api.submit_errors = [Reply(429, {"detail": "slow down"}, {"retry-after": "1"})]
    factory()().generate(REQ)  # fal-client retries the 429 itself
    assert api.submissions() == 1 and api.count("POST", "/" + APP) == 2


def test_provider_failure(api):
    cases.provider_failure(api, factory(), REQ)


def test_refusal(api):
    cases.refusal(api, factory(), REQ)


def test_kill_and_resume(api):
    cases.kill_and_resume(api, factory(), REQ)


def test_missing_key(api, monkeypatch):
    cases.missing_key(api, factory(), REQ, monkeypatch, "FAL_KEY")
