"""Wan VACE (Wan-AI) through diffusers' WanVACEPipeline: reference images, first/last frames, clip extension.

One set of weights does every mode, through VACE's masked-video input: the
frames to keep are placed where they belong in a `video` of the request's
length (the given first frames at its start, the landing frame at its end,
grey elsewhere) and a `mask` says keep (0) or generate (255) per frame. A
character's storyboard image is passed as `reference_images`, which is how
it reaches the model (VACE's reference-to-video).
"""

from __future__ import annotations

import numpy as np

from ..base import GenerationRequest
from .loading import to_pil
from .wan import WanModel

GREY = 127  # what VACE sees where it is to generate (the pipeline's own convention for empty frames)


class WanVACEModel(WanModel):
    """Wan VACE: t2v, i2v, extension, connection and character reference on its one pipeline."""

    family = "wan-vace"
    pipeline_classes = {"t2v": "WanVACEPipeline"}
    i2v_in_main_weights = True

    @classmethod
    def declared(cls, has_i2v: bool, expand_timesteps: bool) -> frozenset[str]:
        return frozenset({"t2v", "i2v", "extend", "connect", "reference"})

    @property
    def expand_timesteps(self) -> bool:
        return False

    def call_args(self, req: GenerationRequest, mode: str) -> tuple[dict, str, int]:
        args: dict = {"num_frames": req.frames}
        if req.reference_image is not None:
            args["reference_images"] = to_pil(self._fit(req.reference_image, req)[None])
        if mode == "t2v":
            return args, "t2v", 0
        video = np.full((req.frames, req.height, req.width, 3), GREY, np.uint8)  # (T, H, W, 3)
        keep = np.zeros(req.frames, bool)
        used = 0
        if req.first_frames is not None:
            used = len(req.first_frames)
            video[:used], keep[:used] = req.first_frames, True
        if req.last_frames is not None:
            video[-1], keep[-1] = req.last_frames[-1], True
        mask = [np.full((req.height, req.width), 0 if k else 255, np.uint8) for k in keep]
        from PIL import Image  # deferred: only conditioned requests build masks

        args.update(video=to_pil(video), mask=[Image.fromarray(m, mode="L") for m in mask])
        return args, "t2v", used

    @staticmethod
    def _fit(image: np.ndarray, req: GenerationRequest) -> np.ndarray:
        """The reference image letterboxed onto the request's frame (VACE takes references at the video's size)."""
        from PIL import Image  # deferred: see call_args

        h, w = image.shape[:2]
        scale = min(req.width / w, req.height / h)
        im = Image.fromarray(image).resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.BICUBIC)
        canvas = np.full((req.height, req.width, 3), 255, np.uint8)
        y, x = (req.height - im.height) // 2, (req.width - im.width) // 2
        canvas[y:y + im.height, x:x + im.width] = np.asarray(im)
        return canvas
