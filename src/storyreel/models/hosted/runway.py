"""Runway's API through its official SDK (`runwayml`): text-to-video, image-to-video, first and last frame.

Key: RUNWAYML_API_SECRET. Conditioning frames are uploaded as ephemeral
files (`uploads.create_ephemeral`) and named by their runway:// URI; a last
frame is a `prompt_image` with position "last" (models that take one). Jobs
are Runway tasks: `tasks.retrieve` until SUCCEEDED (output URLs) or FAILED
(`failure`, `failureCode`; SAFETY.* codes are content-policy refusals). The
SDK's own retries are off: retries are storyreel's (models.hosted.retry), so
no submission is repeated behind its back.
"""

from __future__ import annotations

from functools import cached_property

from ..base import GenerationRequest
from .base import HostedModel, HostedSpec, Poll
from .retry import Failure, http_failure

T2V_I2V = frozenset({"t2v", "i2v", "extend"})

# sizes, durations and frame rate from the SDK's documented parameters (runwayml 5.x: text_to_video.create,
# image_to_video.create) and Runway's API reference
SPECS = [
    HostedSpec("runway-gen4.5", "runway", "gen4.5", T2V_I2V, fps=24, sizes=((1280, 720), (720, 1280)),
               durations=tuple(float(d) for d in range(2, 11)), docs="docs.dev.runwayml.com: gen4.5, 2-10 s"),
    HostedSpec("runway-veo3.1", "runway", "veo3.1", T2V_I2V | {"connect"}, fps=24,
               sizes=((1280, 720), (720, 1280), (1920, 1080), (1080, 1920)), durations=(4.0, 6.0, 8.0),
               docs="docs.dev.runwayml.com: veo3.1, 4/6/8 s, first and last frame"),
]


class RunwayModel(HostedModel):
    env = "RUNWAYML_API_SECRET"
    sdk = "runwayml"

    @cached_property
    def client(self):
        from runwayml import RunwayML  # deferred: an optional extra (storyreel[hosted])

        return RunwayML(api_key=self.key(), base_url=self.options.base_url or None, max_retries=0, timeout=120.0)

    def ratio(self, req: GenerationRequest) -> str:
        return f"{req.width}:{req.height}"

    def upload_png(self, png: bytes, name: str) -> str:
        return self.client.uploads.create_ephemeral(file=(f"{name}.png", png)).uri

    def submit(self, req: GenerationRequest, seconds: float) -> str:
        images = []
        if req.first_frames is not None:
            images.append({"position": "first", "uri": self.image_ref(req.first_frames[-1], "first")})
        if req.last_frames is not None:
            images.append({"position": "last", "uri": self.image_ref(req.last_frames[-1], "last")})
        common = dict(model=self.spec.model_id, prompt_text=req.prompt[:1000], ratio=self.ratio(req),
                      duration=int(seconds))
        if images:
            task = self.client.image_to_video.create(prompt_image=images, seed=int(req.seed) % 4294967295, **common)
        else:
            task = self.client.text_to_video.create(**common)
        return task.id

    def poll(self, job_id: str) -> Poll:
        task = self.client.tasks.retrieve(job_id)
        if task.status == "SUCCEEDED":
            return Poll("succeeded", url=task.output[0])
        if task.status in {"FAILED", "CANCELLED"}:
            code = getattr(task, "failure_code", None) or ""
            reason = getattr(task, "failure", None) or task.status.lower()
            return Poll("failed", reason=f"{reason} ({code})" if code else reason, refused=code.startswith("SAFETY"))
        return Poll("running")

    def classify(self, exc: BaseException) -> Failure | None:
        import runwayml  # deferred: see client

        if isinstance(exc, runwayml.APIStatusError):
            message = f"HTTP {exc.status_code}: {exc.message}"
            if exc.status_code == 400 and any(w in str(exc.message).lower() for w in ("moderation", "safety")):
                return Failure("refused", message)
            return http_failure(exc.status_code, message, exc.response.headers)
        if isinstance(exc, runwayml.APIConnectionError):
            return Failure("retry", str(exc))
        return None
