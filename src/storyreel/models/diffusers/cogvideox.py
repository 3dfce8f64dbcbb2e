"""CogVideoX 1.0 (THUDM) through diffusers: text-to-video, image-to-video with the 5B I2V partner, restyling."""

from __future__ import annotations

from pathlib import Path

from ...errors import StoryreelError
from .adapter import DiffusersModel
from .weights import read_json


class CogVideoXModel(DiffusersModel):
    """CogVideoX: its text encoder takes the transformer's full text length on every call."""

    family = "cogvideox"
    pipeline_classes = {"t2v": "CogVideoXPipeline", "i2v": "CogVideoXImageToVideoPipeline",
                        "v2v": "CogVideoXVideoToVideoPipeline"}

    @classmethod
    def declared(cls, has_i2v: bool, expand_timesteps: bool) -> frozenset[str]:
        """Continues from one image only with an image-to-video pipeline; restyles with its video-to-video one."""
        return frozenset({"t2v", "v2v"} | ({"i2v", "extend"} if has_i2v else set()))

    def check_pipeline(self, path: Path) -> None:
        if read_json(path / "transformer" / "config.json").get("patch_size_t"):
            raise StoryreelError(f"{self.source} is a CogVideoX 1.5 pipeline, which pads and trims frames inside "
                                 f"diffusers; storyreel runs CogVideoX 1.0 (cogvideox-2b, cogvideox-5b)", field="model")

    def family_args(self, pipe) -> dict:
        return {"max_sequence_length": pipe.transformer.config.max_text_seq_length}
