"""The one H.264 writer: every video storyreel writes has MB-tree off and the same bytes for the same frames."""

from __future__ import annotations

from fakes import make_plan, make_take
from storyreel.fsio import Outputs
from storyreel.output.clip import write_clip
from storyreel.output.encode import encode, probe
from storyreel.output.shot_media import ShotMediaWriter, tee_shots


def _frames(n=12, h=48, w=64):
    return make_take(n, h, w, seed=4)


def _settings(path) -> bytes:
    """x264's options string, which it writes into the stream itself (an SEI message)."""
    data = path.read_bytes()
    start = data.index(b"x264 - core")
    return data[start : data.index(b"\x00", start)]


def test_the_render_the_shot_files_and_generate_clips_all_turn_mb_tree_off_and_repeat_exactly(tmp_path):
    frames = _frames()
    plan = make_plan([5, 7], width=64, height=48)
    outputs = []
    for run in ("a", "b"):
        video = encode(iter(frames), 12, 24, (64, 48), None, tmp_path / run / "v.mp4")
        clip = write_clip(frames, 8.0, tmp_path / run / "clip.mp4")
        writer = ShotMediaWriter(plan, Outputs.of(video).shot_files(2))
        for _ in tee_shots(iter(frames), writer):
            pass
        outputs.append([video, clip, *writer.close()])
    for a, b in zip(*outputs):
        assert b"mbtree=0" in _settings(a), a.name
        assert a.read_bytes() == b.read_bytes(), a.name
    assert [probe(p)["frames"] for p in outputs[0]] == [12, 12, 5, 7]


def test_odd_sizes_are_padded_to_even_for_4_2_0(tmp_path):
    path = write_clip(make_take(3, 47, 63), 8.0, tmp_path / "odd.mp4")
    info = probe(path)
    assert (info["width"], info["height"], info["frames"]) == (64, 48, 3)
