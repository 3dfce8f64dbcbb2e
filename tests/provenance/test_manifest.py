"""OUT.manifest.json: what made the video, every shot's prompt, seed and take; written atomically, read back."""

import numpy as np
import pytest

from fakes import make_plan, make_song
from storyreel.errors import StoryreelError
from storyreel.models.base import Clip
from storyreel.provenance import watermark as wm
from storyreel.provenance.manifest import build_manifest, manifest_path, read_manifest, write_manifest
from storyreel.render.takes import ShotResult, TakeRecord


def _results(plan):
    out = []
    for s in plan.shots:
        takes = [TakeRecord(k, s.seed + 1_000_003 * k, f"key{s.index}-{k}") for k in range(2)]
        out.append(ShotResult(s.index, Clip(np.zeros((2, 8, 8, 3), np.uint8), 8.0), 1, takes))
    return out


def test_manifest_names_storyboard_song_models_and_every_shots_prompt_seed_and_take(tmp_path):
    song = make_song(tmp_path / "song.wav", 1.0)
    plan = make_plan([10, 14], song=str(song))
    plan.storyboard_hash = "abc123"
    video = tmp_path / "v.mp4"
    video.write_bytes(b"not really a video")
    path = write_manifest(manifest_path(video), build_manifest(plan, _results(plan), video, models=["builtin"]))
    assert path == tmp_path / "v.manifest.json"
    m = read_manifest(path)
    assert m["generator"]["name"] == "storyreel" and m["models"] == ["builtin"] and m["ai_generated"]
    assert m["storyboard"]["hash"] == "abc123" and len(m["song"]["sha256"]) == 64 and len(m["video"]["sha256"]) == 64
    assert m["watermark"]["payload_hex"] == wm.PAYLOAD.hex()
    assert [(s["shot"], s["prompt"], s["take"], s["take_key"], s["seed"]) for s in m["shots"]] == [
        (1, "prompt 0", 2, "key0-1", 100 + 1_000_003), (2, "prompt 1", 2, "key1-1", 101 + 1_000_003)]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(StoryreelError, match="not a storyreel manifest"):
        read_manifest(tmp_path / "bad.json")
