"""Export: the OTIO timeline round-trips with the plan's exact cuts; the contact sheet is a sane PNG."""

from __future__ import annotations

import numpy as np
import opentimelineio as otio
import pytest
from helpers_media import make_plan, make_take
from PIL import Image

from storyreel.errors import StoryreelError
from storyreel.export import contact_sheet, timecode, write_otio
from storyreel.plan import Transition


def _plan():
    trans = [
        Transition(),
        Transition("crossfade", 1, 8),
        Transition("zoom_through", 1, 7),
        Transition(),
        Transition("crossfade", 1, 30),
    ]
    return make_plan(
        [24, 30, 18, 40, 12], transitions=trans, sections=["A", "A", "B", "B", "A"], song="/music/song.wav"
    )


def test_otio_round_trip(tmp_path):
    plan = _plan()
    path = write_otio(plan, tmp_path / "edit.otio", str(tmp_path / "video.mp4"))
    tl = otio.adapters.read_from_file(str(path))
    assert tl.name == plan.title and tl.metadata["storyreel"]["seed"] == plan.seed
    video = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Video]
    audio = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Audio]
    assert len(video) == 1 and len(audio) == 1
    clips = list(video[0].find_clips())
    assert [c.name for c in clips] == [f"shot {i:02d}" for i in range(1, 6)]
    for clip, shot in zip(clips, plan.shots):
        assert clip.source_range == otio.opentime.TimeRange(
            otio.opentime.RationalTime(shot.start_frame, plan.fps), otio.opentime.RationalTime(shot.frames, plan.fps)
        )
        assert clip.media_reference.target_url.endswith("/video.mp4")
        assert clip.metadata["storyreel"]["prompt"] == shot.prompt and clip.metadata["storyreel"]["seed"] == shot.seed
        assert video[0].range_of_child(clip).start_time.value == shot.start_frame  # transitions take no time
    assert video[0].duration().value == plan.frames

    trans = [t for t in video[0] if isinstance(t, otio.schema.Transition)]
    assert [t.transition_type for t in trans] == ["SMPTE_Dissolve", "Custom_Transition", "SMPTE_Dissolve"]
    assert [(t.in_offset.value, t.out_offset.value) for t in trans] == [(4, 4), (3, 4), (6, 6)]  # 30 clamped to 12

    assert [m.name for m in video[0].markers] == ["A", "B", "A"]
    assert video[0].markers[1].marked_range.start_time.value == plan.shots[2].start_frame

    (song,) = list(audio[0].find_clips())
    assert song.media_reference.target_url == "file:///music/song.wav"
    assert song.source_range.duration.value == plan.frames


def test_otio_with_per_shot_media(tmp_path):
    plan = _plan()
    media = [str(tmp_path / f"shot_{i:02d}.mp4") for i in range(len(plan.shots))]
    tl = otio.adapters.read_from_file(str(write_otio(plan, tmp_path / "e.otio", "unused.mp4", media)))
    clips = list(tl.tracks[0].find_clips())
    assert [c.media_reference.target_url.rsplit("/", 1)[1] for c in clips] == [f"shot_{i:02d}.mp4" for i in range(5)]
    assert [c.source_range.duration.value for c in clips] == [s.frames for s in plan.shots]
    assert all(c.source_range.start_time.value == 0 for c in clips)


def test_otio_unwritable(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(StoryreelError, match="f/edit.otio"):
        write_otio(_plan(), tmp_path / "f" / "edit.otio", "v.mp4")


def test_contact_sheet(tmp_path):
    plan = _plan()
    thumbs = [make_take(1, 48, 80, seed=i)[0] for i in range(len(plan.shots))]
    out = contact_sheet(thumbs, plan, tmp_path / "sheet.png", cols=3)
    img = Image.open(out)
    assert img.format == "PNG"
    w, h = img.size
    assert 3 * 240 < w < 3 * 240 + 100  # three columns of 240 px thumbnails
    assert 2 * 135 < h < 2 * 135 + 200  # two rows of 16:9 thumbnails, labels and a title
    px = np.asarray(img)
    assert px.std() > 10  # not blank
    assert [p.name for p in tmp_path.iterdir()] == ["sheet.png"]


def test_timecode():
    assert timecode(0) == "00:00.0" and timecode(72.46) == "01:12.5" and timecode(599.99) == "10:00.0"
