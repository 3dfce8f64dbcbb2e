"""Luma Dream Machine through the official SDK (`lumaai`): Ray 2 with keyframes frame0 / frame1.

Key: LUMAAI_API_KEY. The first frame is keyframe `frame0`, the landing frame
`frame1` ({"type": "image", "url": ...}); Luma reads images by URL and has no
upload endpoint, so storyreel sends them as data: URIs (the README says so). Jobs are generations:
`generations.get` until `completed` (assets.video) or `failed`
(failure_reason; moderation failures are content-policy refusals).
"""

from __future__ import annotations

from functools import cached_property

from ..base import GenerationRequest
from .base import HostedModel, HostedSpec, Poll
from .retry import Failure, http_failure

LUMA_CAPS = frozenset({"t2v", "i2v", "extend", "connect"})

# docs.lumalabs.ai/docs/video-generation: ray-2 / ray-flash-2, 5s or 9s, 540p/720p/1080p, aspect ratios; 24 fps
SPECS = [
    HostedSpec("luma-ray-2", "luma", "ray-2", LUMA_CAPS, fps=24, sizes=((1280, 720), (720, 1280), (960, 540)),
               durations=(5.0, 9.0), docs="docs.lumalabs.ai/docs/video-generation (Ray 2)"),
    HostedSpec("luma-ray-flash-2", "luma", "ray-flash-2", LUMA_CAPS, fps=24, sizes=((1280, 720), (720, 1280), (960, 540)),
               durations=(5.0, 9.0), docs="docs.lumalabs.ai/docs/video-generation (Ray Flash 2)"),
]


class LumaModel(HostedModel):
    env = "LUMAAI_API_KEY"
    sdk = "lumaai"

    @cached_property
    def client(self):
        from lumaai import LumaAI  # deferred: an optional extra (storyreel[hosted])

        return LumaAI(auth_token=self.key(), base_url=self.options.base_url or None, max_retries=0, timeout=120.0)

    def submit(self, req: GenerationRequest, seconds: float) -> str:
        keyframes = {}
        if req.first_frames is not None:
            keyframes["frame0"] = {"type": "image", "url": self.image_ref(req.first_frames[-1], "frame0")}
        if req.last_frames is not None:
            keyframes["frame1"] = {"type": "image", "url": self.image_ref(req.last_frames[-1], "frame1")}
        short = min(req.width, req.height)
        gen = self.client.generations.create(
            model=self.spec.model_id, prompt=req.prompt, duration=f"{int(seconds)}s",
            aspect_ratio="16:9" if req.width > req.height else "9:16", resolution=f"{short}p",
            **({"keyframes": keyframes} if keyframes else {}))
        return gen.id

    def poll(self, job_id: str) -> Poll:
        gen = self.client.generations.get(job_id)
        if gen.state == "completed":
            return Poll("succeeded", url=gen.assets.video)
        if gen.state == "failed":
            reason = gen.failure_reason or "failed"
            return Poll("failed", reason=reason, refused="moderation" in reason.lower())
        return Poll("running")

    def classify(self, exc: BaseException) -> Failure | None:
        import lumaai  # deferred: see client

        if isinstance(exc, lumaai.APIStatusError):
            message = f"HTTP {exc.status_code}: {exc.message}"
            if exc.status_code == 400 and "moderation" in str(exc.message).lower():
                return Failure("refused", message)
            return http_failure(exc.status_code, message, exc.response.headers)
        if isinstance(exc, lumaai.APIConnectionError):
            return Failure("retry", str(exc))
        return None
