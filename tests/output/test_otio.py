"""The OTIO timeline round-trips with the plan's exact cuts, transitions, sections and downbeats."""

from __future__ import annotations

import opentimelineio as otio
import pytest
from fakes import make_plan

from storyreel.errors import StoryreelError
from storyreel.output.otio import build_timeline, write_otio
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


def test_otio_round_trip_with_shot_media_transitions_sections_and_downbeats(tmp_path):
    plan = _handoff_plan()
    media = [str(tmp_path / f"shot_{i + 1:02d}.mp4") for i in range(3)]
    downbeats = [0.0, 1.0, 2.0, 3.0, 99.0]  # the last is past the end: dropped
    path = write_otio(plan, tmp_path / "v.otio", str(tmp_path / "v.mp4"), media, downbeats)
    tl = otio.adapters.read_from_file(str(path))
    assert tl.is_equivalent_to(build_timeline(plan, str(tmp_path / "v.mp4"), media, downbeats))
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


def _handoff_plan():
    return make_plan([30, 20, 26], width=64, height=48, sections=["A", "A", "B"],
                     transitions=[Transition(), Transition("crossfade", 1, 6), Transition("zoom_through", 1, 4)])
