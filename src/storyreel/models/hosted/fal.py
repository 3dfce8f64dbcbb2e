"""fal.ai's queue through the official SDK (`fal-client`): one adapter, a table of model ids (Kling, Pika, ...).

Key: FAL_KEY. A model is a pair of fal applications, text-to-video and
image-to-video (the first frame as `image_url`, the landing frame as
`tail_image_url` where the model takes one); images travel as data: URIs,
which fal accepts for any file input. A job is the application and fal's
request id (`app|request_id`): `status` until COMPLETED, then `result`
({"video": {"url": ...}}); a COMPLETED request with an error failed, and an
error of type content_policy_violation is a refusal. fal-client retries 429
and 502-504 itself (up to 10 times, from 0.1 s, without reading
Retry-After); storyreel's retries come on top when it gives up.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ..base import GenerationRequest
from .base import HostedModel, HostedSpec, Poll
from .retry import Failure, http_failure


@dataclass(frozen=True)
class FalApps:
    """The fal applications behind one storyreel model name."""

    t2v: str
    i2v: str
    tail_image: bool = False  # the i2v application takes a last frame (tail_image_url)
    resolution: str | None = None  # its `resolution` argument, when it has one


APPS = {
    "fal-kling-2.1": FalApps("fal-ai/kling-video/v2.1/master/text-to-video",
                             "fal-ai/kling-video/v2.1/master/image-to-video"),
    "fal-kling-2.1-pro": FalApps("fal-ai/kling-video/v2.1/pro/image-to-video",
                                 "fal-ai/kling-video/v2.1/pro/image-to-video", tail_image=True),
    "fal-pika-2.2": FalApps("fal-ai/pika/v2.2/text-to-video", "fal-ai/pika/v2.2/image-to-video", resolution="720p"),
}

# fal.ai model pages (API tab): Kling 2.1 5 or 10 s at 24 fps; Pika 2.2 5 or 10 s, 720p/1080p
SPECS = [
    HostedSpec("fal-kling-2.1", "fal", APPS["fal-kling-2.1"].t2v, frozenset({"t2v", "i2v", "extend"}), fps=24,
               sizes=((1280, 720), (720, 1280)), durations=(5.0, 10.0), docs="fal.ai/models/fal-ai/kling-video"),
    HostedSpec("fal-kling-2.1-pro", "fal", APPS["fal-kling-2.1-pro"].i2v, frozenset({"i2v", "extend", "connect"}),
               fps=24, sizes=((1280, 720), (720, 1280)), durations=(5.0, 10.0),
               docs="fal.ai/models/fal-ai/kling-video (pro image-to-video, tail_image_url)"),
    HostedSpec("fal-pika-2.2", "fal", APPS["fal-pika-2.2"].t2v, frozenset({"t2v", "i2v", "extend"}), fps=24,
               sizes=((1280, 720), (720, 1280)), durations=(5.0, 10.0), docs="fal.ai/models/fal-ai/pika"),
]


class FalModel(HostedModel):
    env = "FAL_KEY"
    sdk = "fal_client"

    @cached_property
    def client(self):
        import fal_client  # deferred: an optional extra (storyreel[hosted])

        return fal_client.SyncClient(key=self.key(), default_timeout=120.0)

    def check_request(self, req: GenerationRequest) -> None:
        super().check_request(req)
        if req.first_frames is None and "t2v" not in self.capabilities:
            from ...errors import StoryreelError  # deferred: only this refusal needs it

            raise StoryreelError(f"{self.name} starts from an image: it needs a shot that continues another")

    def submit(self, req: GenerationRequest, seconds: float) -> str:
        apps = APPS[self.name]
        args = {"prompt": req.prompt, "duration": str(int(seconds)),
                "aspect_ratio": "16:9" if req.width > req.height else "9:16"}
        if req.negative_prompt:
            args["negative_prompt"] = req.negative_prompt
        if apps.resolution:
            args["resolution"] = apps.resolution
        app = apps.t2v
        if req.first_frames is not None:
            app, args["image_url"] = apps.i2v, self.image_ref(req.first_frames[-1], "first")
            if req.last_frames is not None and apps.tail_image:
                args["tail_image_url"] = self.image_ref(req.last_frames[-1], "last")
        handle = self.client.submit(app, arguments=args)
        return f"{app}|{handle.request_id}"

    def poll(self, job_id: str) -> Poll:
        import fal_client  # deferred: see client

        app, _, rid = job_id.partition("|")
        status = self.client.status(app, rid)
        if not isinstance(status, fal_client.Completed):
            return Poll("running")
        if status.error:
            kind = getattr(status, "error_type", None) or ""
            return Poll("failed", reason=f"{status.error} ({kind})" if kind else status.error,
                        refused="content_policy" in kind)
        result = self.client.result(app, rid)
        return Poll("succeeded", url=result["video"]["url"])

    def classify(self, exc: BaseException) -> Failure | None:
        import fal_client  # deferred: see client

        if isinstance(exc, fal_client.FalClientHTTPError):
            if "content_policy" in str(getattr(exc, "error_type", "") or exc):
                return Failure("refused", str(exc))
            return http_failure(exc.status_code, f"HTTP {exc.status_code}: {exc}", exc.response_headers)
        return None
