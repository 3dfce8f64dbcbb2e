"""The timeline for other editors: FCP7 XML and CMX 3600 EDL keep the plan's cut."""

import opentimelineio as otio
import pytest

from fakes import make_plan
from storyreel.output.interchange import available_interchange, write_interchange
from storyreel.output.otio import build_timeline
from storyreel.plan import Transition


def _plan():
    plan = make_plan([30, 20, 26], width=64, height=48, sections=["A", "A", "B"],
                     transitions=[Transition(), Transition("crossfade", 1, 6), Transition("zoom_through", 1, 4)])
    return plan


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


@pytest.mark.skipif(not {"fcp_xml", "cmx_3600"} <= set(available_interchange()),
                    reason="otio-fcp-adapter / otio-cmx3600-adapter not installed")
@pytest.mark.parametrize("shot_media", [False, True])
def test_fcp_xml_and_edl_round_trip_the_cut(tmp_path, shot_media):
    plan = _plan()
    media = [str(tmp_path / f"shot_{i + 1:02d}.mp4") for i in range(3)] if shot_media else None
    tl = build_timeline(plan, str(tmp_path / "v.mp4"), media)
    written = write_interchange(tl, tmp_path / "v.mp4")
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


