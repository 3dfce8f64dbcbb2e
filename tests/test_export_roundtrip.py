"""Hand-off: OTIO round trip, per-shot media whose durations equal the plan's, downbeat markers, FCP7 XML / EDL."""

import json

import numpy as np
import opentimelineio as otio
import pytest
from typer.testing import CliRunner

from helpers_media import make_plan, make_song
from storyreel import export, handoff
from storyreel.cli import app
from storyreel.encode import probe
from storyreel.models.base import Clip, NativeFormat
from storyreel.models.builtin import world
from storyreel.plan import Transition

runner = CliRunner()


def _plan():
    plan = make_plan([30, 20, 26], width=64, height=48, sections=["A", "A", "B"],
                     transitions=[Transition(), Transition("crossfade", 1, 6), Transition("zoom_through", 1, 4)])
    return plan


def _frames(plan):
    for g in range(plan.frames):
        yield np.full((plan.height, plan.width, 3), (g * 3) % 256, np.uint8)


def test_shot_media_writer_splits_the_stream_into_one_file_per_shot_of_exactly_its_length(tmp_path):
    plan = _plan()
    writer = handoff.ShotMediaWriter(plan, tmp_path / "v.shots")
    assert sum(1 for _ in handoff.tee_shots(_frames(plan), writer)) == plan.frames
    paths = writer.close()
    assert [p.name for p in paths] == ["shot_01.mp4", "shot_02.mp4", "shot_03.mp4"]
    assert [probe(p)["frames"] for p in paths] == [s.frames for s in plan.shots]
    assert not list((tmp_path / "v.shots").glob(".*"))


def test_otio_round_trip_with_shot_media_transitions_sections_and_downbeats(tmp_path):
    plan = _plan()
    media = [str(tmp_path / f"shot_{i + 1:02d}.mp4") for i in range(3)]
    downbeats = [0.0, 1.0, 2.0, 3.0, 99.0]  # the last is past the end: dropped
    path = export.write_otio(plan, tmp_path / "v.otio", str(tmp_path / "v.mp4"), media, downbeats)
    tl = otio.adapters.read_from_file(str(path))
    assert tl.is_equivalent_to(export.build_timeline(plan, str(tmp_path / "v.mp4"), media, downbeats))
    track = tl.video_tracks()[0]
    clips = list(track.find_clips())
    assert [c.media_reference.target_url.rsplit("/", 1)[1] for c in clips] == ["shot_01.mp4", "shot_02.mp4", "shot_03.mp4"]
    assert [c.source_range.duration.to_frames() for c in clips] == [s.frames for s in plan.shots]
    assert [c.source_range.start_time.to_frames() for c in clips] == [0, 0, 0]
    assert [t.transition_type for t in track if isinstance(t, otio.schema.Transition)] == [
        otio.schema.TransitionTypes.SMPTE_Dissolve, otio.schema.TransitionTypes.Custom]
    bars = [m for m in track.markers if m.metadata.get("storyreel", {}).get("kind") == "downbeat"]
    assert [(m.name, m.marked_range.start_time.to_frames()) for m in bars] == [("bar 1", 0), ("bar 2", 24), ("bar 3", 48), ("bar 4", 72)]
    assert [m.name for m in track.markers if m not in bars] == ["A", "B"]


def boundaries(track) -> list[tuple[int, int]]:
    """Each join between shots as the frames [start, end) it spans: a cut is (f, f), a transition its window.

    This is what FCP7 XML and CMX 3600 both keep, though an EDL puts a dissolve's nominal cut at its start.
    """
    out, items = [], list(track)
    for i, item in enumerate(items):
        if isinstance(item, otio.schema.Clip) and i > 0:
            start = track.range_of_child(item).start_time.to_frames()
            prev = items[i - 1]
            if isinstance(prev, otio.schema.Transition):
                out.append((start - prev.in_offset.to_frames(), start + prev.out_offset.to_frames()))
            else:
                out.append((start, start))
    return out


@pytest.mark.skipif(not {"fcp_xml", "cmx_3600"} <= set(handoff.available_interchange()),
                    reason="otio-fcp-adapter / otio-cmx3600-adapter not installed")
@pytest.mark.parametrize("shot_media", [False, True])
def test_fcp_xml_and_edl_round_trip_the_cut(tmp_path, shot_media):
    plan = _plan()
    media = [str(tmp_path / f"shot_{i + 1:02d}.mp4") for i in range(3)] if shot_media else None
    tl = export.build_timeline(plan, str(tmp_path / "v.mp4"), media)
    written = handoff.write_interchange(tl, tmp_path / "v.mp4")
    assert set(written) == {"fcp_xml", "cmx_3600"}
    # per-shot files have no handles (their blends are baked in): the interchange files cut where the plan cuts
    want = [(s.start_frame, s.start_frame) for s in plan.shots[1:]] if shot_media else boundaries(tl.video_tracks()[0])
    if not shot_media:
        assert want == [(27, 33), (48, 52)]  # crossfade 6 frames and zoom-through 4, centred on the plan's cuts
    for name, path in written.items():
        back = otio.adapters.read_from_file(str(path), **({"rate": plan.fps} if name == "cmx_3600" else {}))
        track = back.video_tracks()[0]
        assert len(list(track.find_clips())) == 3, name
        assert boundaries(track) == want, name
        assert track.duration().to_frames() == plan.frames, name
        if shot_media:
            assert [c.media_reference.target_url.rsplit("/", 1)[1] for c in track.find_clips()] == [
                "shot_01.mp4", "shot_02.mp4", "shot_03.mp4"], name


class WorldModel:
    name = "worldfake"
    capabilities = frozenset({"t2v", "extend"})
    native = NativeFormat(fps=8.0, frames=16, height=48, width=80, size_multiple=16, frame_rule=(1, 0))

    def identity(self):
        return "worldfake:1"

    def generate(self, req, progress=None):
        return Clip(world.sample(req.seed % 100_000, req.height, req.width, req.frames).video, self.native.fps, req)


def test_render_export_shots_writes_clips_the_otio_uses(tmp_path, monkeypatch):
    import storyreel.models.registry as registry

    monkeypatch.setattr(registry, "get_model", lambda name, options=None: WorldModel())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("STORYREEL_C2PA_CERT", raising=False)
    monkeypatch.delenv("STORYREEL_C2PA_KEY", raising=False)
    make_song(tmp_path / "song.wav", 6.0)
    (tmp_path / "board.yaml").write_text(
        "title: t\nsong: song.wav\noutput: {size: 160x96, fps: 24}\nshots:\n"
        "  - prompt: a yellow star stays still over a meadow\n  - prompt: a red circle moves right in a day sky\n"
        "    transition: {kind: crossfade, beats: 1}\n  - prompt: a blue square moves up in the night sky\n")
    out = tmp_path / "out" / "v.mp4"
    res = runner.invoke(app, ["render", str(tmp_path / "board.yaml"), "-o", str(out), "--export-shots",
                              "--cache-dir", str(tmp_path / "cache")])
    assert res.exit_code == 0, res.output
    plan = json.loads((tmp_path / "out" / "v.plan.json").read_text())
    tl = otio.adapters.read_from_file(str(tmp_path / "out" / "v.otio"))
    clips = list(tl.video_tracks()[0].find_clips())
    lengths = [s["end_frame"] - s["start_frame"] for s in plan["shots"]]
    assert [c.source_range.duration.to_frames() for c in clips] == lengths
    files = [otio.url_utils.filepath_from_url(c.media_reference.target_url) for c in clips]
    assert [probe(f)["frames"] for f in files] == lengths
    assert sorted(p.name for p in (tmp_path / "out" / "v.shots").iterdir()) == ["shot_01.mp4", "shot_02.mp4", "shot_03.mp4"]
    assert any(m.name == "bar 1" for m in tl.video_tracks()[0].markers)
    if set(handoff.available_interchange()) >= {"fcp_xml", "cmx_3600"}:
        assert (tmp_path / "out" / "v.xml").exists() and (tmp_path / "out" / "v.edl").exists()
