"""The cases every hosted adapter passes against its local server (tests/hosted_server.py): submit, poll,
download; 429 then success; a provider-side failure; a refusal; a kill during polling and a resume that submits
nothing new; a missing key. Each provider's test module (tests/models/hosted) calls them with its fake API and its model factory."""

from __future__ import annotations

import pytest

from hosted_server import Reply
from storyreel.errors import StoryreelError
from storyreel.models.base import GenerationRequest
from storyreel.models.hosted.jobstore import request_key


class Killed(BaseException):
    """The process dying while it waits."""


def submit_poll_download(api, make, req: GenerationRequest) -> None:
    m = make()
    clip = m.generate(req)
    assert clip.frames.shape == (req.frames, req.height, req.width, 3)
    rec = m.jobs.get(request_key(m.identity(), req))
    assert rec.state == "succeeded" and rec.job_id == clip.info["job_id"] and len(rec.sha256) == 64
    assert api.submissions() == 1
    make().generate(req)  # finished and on disk: nothing new
    assert api.submissions() == 1


def rate_limited_then_accepted(api, make, req: GenerationRequest) -> None:
    api.submit_errors = [Reply(429, {"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}},
                               {"retry-after": "3"})]
    sleeps = []
    m = make()
    m.sleep = sleeps.append
    m.generate(req)
    assert sleeps[0] == 3.0 and api.submissions() == 1


def provider_failure(api, make, req: GenerationRequest) -> None:
    api.script = ["running", "failed"]
    with pytest.raises(StoryreelError, match="failed on the provider's side: .*the worker crashed"):
        make().generate(req)
    with pytest.raises(StoryreelError, match="not resubmitted"):
        make().generate(req)
    assert api.submissions() == 1


def refusal(api, make, req: GenerationRequest) -> None:
    api.script, api.reason = ["refused"], "prompt flagged by moderation"
    with pytest.raises(StoryreelError, match="content policy") as e:
        make().generate(req)
    assert "\n" not in str(e.value)


def kill_and_resume(api, make, req: GenerationRequest) -> None:
    api.script = ["running", "running", "succeeded"]
    first = make()

    def die(seconds):
        raise Killed()

    first.sleep = die
    with pytest.raises(Killed):
        first.generate(req)
    second = make()
    clip = second.generate(req)
    assert second.submissions == 0 and api.submissions() == 1 and clip.info["resumed_job"]


def missing_key(api, make, req: GenerationRequest, monkeypatch, env: str) -> None:
    monkeypatch.delenv(env, raising=False)
    with pytest.raises(StoryreelError, match=env) as e:
        make().generate(req)
    assert "\n" not in str(e.value) and api.calls == []
