"""OUT.manifest.json: what made the video (storyreel, models, storyboard, every shot's prompt, seed and take).

Written atomically beside the MP4 by `storyreel render` after the video (and
its C2PA signature) is final, so `video.sha256` is the hash of the file as
delivered; `storyreel verify` checks it.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from pathlib import Path

from .. import __version__
from ..errors import StoryreelError
from ..fsio import Outputs, atomic_write
from .watermark import METHOD, PAYLOAD

FORMAT = "storyreel.manifest/1"


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest_path(video: str | os.PathLike) -> Path:
    """OUT.mp4 -> OUT.manifest.json beside it."""
    return Outputs.of(video).manifest


def build_manifest(plan, results, video: str | os.PathLike, *, models: list[str], watermark: bool = True,
                   c2pa: dict | None = None, policy: dict | None = None, storyboard: str | None = None) -> dict:
    """The manifest as a dict. `results` are render's ShotResults (chosen take per shot), in plan order."""
    video = Path(video)
    song = Path(plan.song) if plan.song else None
    shots = []
    for shot, res in zip(plan.shots, results):
        take = res.takes[res.chosen] if res.takes else None
        shots.append({
            "shot": shot.index + 1,
            "frames": [shot.start_frame, shot.end_frame],
            "prompt": shot.prompt,
            "seed": take.seed if take else shot.seed,
            "shot_seed": shot.seed,
            "model": shot.model,
            "take": res.chosen + 1,
            "take_key": take.key if take else None,
        })
    return {
        "format": FORMAT,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "generator": {"name": "storyreel", "version": __version__},
        "ai_generated": True,
        "video": {"file": video.name, "sha256": file_sha256(video) if video.exists() else None,
                  "width": plan.width, "height": plan.height, "fps": plan.fps, "frames": plan.frames},
        "storyboard": {"file": storyboard, "hash": plan.storyboard_hash, "title": plan.title},
        "song": {"file": str(song) if song else None,
                 "sha256": file_sha256(song) if song and song.is_file() else None},
        "models": models,
        "watermark": ({"method": METHOD, "payload_hex": PAYLOAD.hex(), "payload": PAYLOAD[:-1].decode(),
                       "version": PAYLOAD[-1], "size": [plan.width, plan.height]} if watermark else None),
        "c2pa": c2pa or {"embedded": False},
        "policy": policy,
        "shots": shots,
    }


def write_manifest(path: str | os.PathLike, manifest: dict) -> Path:
    """Write the manifest JSON atomically (temporary file + rename)."""
    return atomic_write(path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def read_manifest(path: str | os.PathLike) -> dict:
    """A manifest written by `write_manifest`; StoryreelError if it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise StoryreelError("manifest not found", file=str(path)) from None
    except (OSError, json.JSONDecodeError) as e:
        raise StoryreelError(f"not a readable manifest ({e})", file=str(path)) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StoryreelError(f"not a storyreel manifest (format is not {FORMAT})", file=str(path))
    return data
