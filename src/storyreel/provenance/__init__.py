"""Provenance: an invisible watermark in every frame, OUT.manifest.json, C2PA Content Credentials, and `verify`.

- `watermark`: `watermark_frames(frames, payload)` embeds; `detect(video)` reads it back.
- `manifest`: the sidecar JSON naming storyreel, the models, the storyboard and every shot's prompt, seed and take.
- `c2pa_sign`: sign the MP4 with a C2PA manifest declaring it AI-generated (the user's certificate), read it back.
- `verify`: all of the above for one video, as `storyreel verify` prints it.
"""

from .watermark import METHOD, PAYLOAD, THRESHOLD, Reading, Watermarker, detect, detect_frames, watermark_frames

__all__ = ["METHOD", "PAYLOAD", "THRESHOLD", "Reading", "Watermarker", "detect", "detect_frames", "watermark_frames"]
