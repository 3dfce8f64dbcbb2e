"""`storyreel verify`: everything a video says about where it came from.

Reads the invisible watermark, the MP4's encoder/comment tags, the sidecar
OUT.manifest.json (when it is beside the video or given) and the embedded
C2PA manifest, and reports them together.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import StoryreelError
from ..output.encode import probe
from . import watermark as wm
from .c2pa_sign import C2paMissing, read_c2pa
from .manifest import file_sha256, manifest_path, read_manifest


def verify(video: str | os.PathLike, *, manifest: str | os.PathLike | None = None, trust: str | os.PathLike | None = None,
           max_frames: int = 16) -> dict:
    """A report dict: file, tags, watermark, manifest, c2pa, storyreel (True when any provenance names storyreel)."""
    video = Path(video)
    if not video.is_file():
        raise StoryreelError("file not found", file=str(video))
    try:
        info = probe(video)
    except Exception as e:  # noqa: BLE001 - any demuxer error means "not a video we can read"
        raise StoryreelError(f"cannot read the video ({e})", file=str(video)) from None
    if not info.get("frames"):
        raise StoryreelError("the file has no video stream", file=str(video))
    report: dict = {"file": str(video), "width": info.get("width"), "height": info.get("height"),
                    "frames": info.get("frames"), "tags": {k: v for k, v in info["metadata"].items()
                                                           if k in {"title", "comment", "encoder", "encoding_tool"}}}

    mpath = Path(manifest) if manifest else manifest_path(video)
    man = None
    if manifest is not None or mpath.is_file():
        man = read_manifest(mpath)
        digest = file_sha256(video)
        report["manifest"] = {
            "file": str(mpath),
            "generator": f"{man['generator']['name']} {man['generator']['version']}",
            "storyboard_hash": man.get("storyboard", {}).get("hash"),
            "models": man.get("models", []),
            "shots": len(man.get("shots", [])),
            "created": man.get("created"),
            "video_matches": man.get("video", {}).get("sha256") == digest,
        }
    else:
        report["manifest"] = None

    sizes = []
    if man and (man.get("watermark") or {}).get("size"):
        sizes.append(tuple(man["watermark"]["size"]))
    reading = wm.detect(video, max_frames=max_frames, sizes=sizes)
    report["watermark"] = reading.to_dict()
    try:
        report["c2pa"] = read_c2pa(video, trust)
    except C2paMissing as e:  # an optional extra: say it was not checked rather than that there is none
        report["c2pa"], report["c2pa_unchecked"] = None, e.message
    tags = " ".join(str(v) for v in report["tags"].values())
    report["storyreel"] = bool(reading.detected or (report["c2pa"] or {}).get("storyreel") or "storyreel" in tags)
    return report
