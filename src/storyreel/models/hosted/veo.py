"""Google Veo through the official SDK (`google-genai`): `models.generate_videos` with an image, a last frame
and reference images.

google-genai 3.x runs `generate_videos` on Vertex AI only (the Gemini
Developer API mode refuses it), so the client is a Vertex AI express-mode
client: key GOOGLE_API_KEY. The first frame is `source.image`, the landing
frame `config.last_frame`, a character's storyboard image a reference image
(`config.reference_images`, type ASSET); all travel inline as PNG bytes.
Jobs are long-running operations: `operations.get` (fetchPredictOperation)
until done; the finished video comes back inline. A response whose videos
were removed by Google's safety filters (`rai_media_filtered_reasons`) is a
content-policy refusal. Veo also generates audio; storyreel keeps the song
and drops it.
"""

from __future__ import annotations

from functools import cached_property

from ..base import GenerationRequest
from .base import HostedModel, HostedSpec, Poll
from .retry import Failure, http_failure

VEO_CAPS = frozenset({"t2v", "i2v", "extend", "connect", "reference"})
VEO_SIZES = ((1280, 720), (720, 1280), (1920, 1080), (1080, 1920))

# ai.google.dev/gemini-api/docs/video: 4, 6 or 8 s at 24 fps, 720p or 1080p, 16:9 or 9:16; up to 3 reference images
SPECS = [
    HostedSpec("veo-3.1", "veo", "veo-3.1-generate-preview", VEO_CAPS, fps=24, sizes=VEO_SIZES,
               durations=(4.0, 6.0, 8.0), docs="ai.google.dev/gemini-api/docs/video (Veo 3.1)"),
    HostedSpec("veo-3.1-fast", "veo", "veo-3.1-fast-generate-preview", VEO_CAPS, fps=24, sizes=VEO_SIZES,
               durations=(4.0, 6.0, 8.0), docs="ai.google.dev/gemini-api/docs/video (Veo 3.1 Fast)"),
]


class VeoModel(HostedModel):
    env = "GOOGLE_API_KEY"
    sdk = "google.genai"

    @cached_property
    def client(self):
        from google import genai  # deferred: an optional extra (storyreel[hosted])
        from google.genai import types

        http = types.HttpOptions(base_url=self.options.base_url or None,
                                 retry_options=types.HttpRetryOptions(attempts=1))  # retries are storyreel's
        return genai.Client(vertexai=True, api_key=self.key(), http_options=http)

    def upload_png(self, png: bytes, name: str):
        from google.genai import types  # deferred: see client

        return types.Image(image_bytes=png, mime_type="image/png")

    def submit(self, req: GenerationRequest, seconds: float) -> str:
        from google.genai import types  # deferred: see client

        image = self.image_ref(req.first_frames[-1], "first") if req.first_frames is not None else None
        config = types.GenerateVideosConfig(
            number_of_videos=1, duration_seconds=int(seconds), seed=int(req.seed) % 4294967295,
            aspect_ratio="16:9" if req.width > req.height else "9:16",
            resolution="1080p" if max(req.width, req.height) == 1920 else "720p",
            negative_prompt=req.negative_prompt or None,
            last_frame=self.image_ref(req.last_frames[-1], "last") if req.last_frames is not None else None,
            reference_images=[types.VideoGenerationReferenceImage(
                image=self.image_ref(req.reference_image, "reference"), reference_type="ASSET")]
            if req.reference_image is not None else None)
        op = self.client.models.generate_videos(model=self.spec.model_id, config=config,
                                                source=types.GenerateVideosSource(prompt=req.prompt, image=image))
        return op.name

    def poll(self, job_id: str) -> Poll:
        from google.genai import types  # deferred: see client

        op = self.client.operations.get(types.GenerateVideosOperation(name=job_id))
        if not op.done:
            return Poll("running")
        if op.error:
            return Poll("failed", reason=str(op.error.get("message") or op.error))
        res = op.response or op.result
        videos = (res.generated_videos or []) if res is not None else []
        if not videos:
            reasons = "; ".join(res.rai_media_filtered_reasons or []) if res is not None else ""
            return Poll("failed", reason=reasons or "no video in the response", refused=bool(reasons))
        video = videos[0].video
        if not video.video_bytes:
            return Poll("failed", reason=f"the video is at {video.uri}, not inline (leave output_gcs_uri unset)")
        return Poll("succeeded", url=video.uri or "inline", data=video.video_bytes)

    def classify(self, exc: BaseException) -> Failure | None:
        from google.genai import errors  # deferred: see client

        if isinstance(exc, errors.APIError):
            message = f"HTTP {exc.code}: {exc.message}"
            headers = getattr(getattr(exc, "response", None), "headers", None)
            if exc.code == 400 and "safety" in str(exc.message).lower():
                return Failure("refused", message)
            return http_failure(exc.code, message, headers)
        return None
