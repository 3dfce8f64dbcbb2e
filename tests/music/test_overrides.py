"""The user's corrections of the analysis: tempo, first downbeat and section starts win, and the plan follows."""

from __future__ import annotations

import numpy as np
import pytest

from fakes import make_music_map
from storyreel.job import Job
from storyreel.music.overrides import MusicOverrides, apply_overrides
from storyreel.plan import make_plan
from storyreel.storyboard import parse_storyboard

BOARD = """\
song: song.wav
shots:
  - {prompt: a, length: 1 bar}
  - {prompt: b, length: 1 bar}
  - {prompt: c, length: 1 bar}
  - {prompt: d}
"""


def detected():
    """What an analysis got wrong: double tempo (240 BPM read for 120), bars starting on beat 2."""
    mm = make_music_map(bpm=240.0, bars=16, sections=[("verse", 8), ("chorus", 8)], offset=0.25)
    mm.downbeats = mm.beats[1::4]
    return mm


def test_nothing_given_changes_nothing():
    mm = detected()
    assert apply_overrides(mm, MusicOverrides()) is mm


def test_tempo_rebuilds_the_grid_through_the_detected_bars():
    out = apply_overrides(detected(), MusicOverrides(tempo=120.0))
    assert out.tempo == 120.0
    gaps = np.diff(out.beats)
    assert np.allclose(gaps, 0.5)
    assert abs(out.beats[1] - 0.5) < 1e-6  # phase from the detected downbeats (0.5, 1.5, ...)


def test_first_downbeat_rephases_the_bars():
    out = apply_overrides(detected(), MusicOverrides(downbeat_offset=0.25))
    assert out.downbeats[0] == pytest.approx(0.25)
    assert np.allclose(np.diff(out.downbeats), 1.0)  # every 4 beats at 240 BPM
    assert out.beats == detected().beats


def test_section_starts_snap_to_the_corrected_bars():
    out = apply_overrides(detected(), MusicOverrides(tempo=120.0, downbeat_offset=0.25, section_starts=(4.1, 10.0)))
    starts = [s.start for s in out.sections]
    assert starts == pytest.approx([0.0, 4.25, 10.25])  # bars every 2 s from 0.25 s
    assert out.sections[-1].end == out.duration
    assert [s.label for s in out.sections] == ["A", "A", "B"]  # labels of the detected sections they overlap


def test_the_storyboard_keys_reach_the_plan():
    """The planner cuts on the bars the user gave: 1 bar = 2 s at 120 BPM, from the first downbeat at 0.25 s."""
    sb = parse_storyboard(BOARD + "tempo: 120\ndownbeat_offset: 0.25\nsection_starts: [4.25]\n", path="sb.yaml")
    job = Job(sb.path or None, None, storyboard=sb)
    music = apply_overrides(detected(), job.music_overrides)
    plan = make_plan(sb, music)
    starts = [s.start for s in plan.shots]
    assert starts[1:] == pytest.approx([2.25, 4.25, 6.25], abs=1 / 24)
    assert (plan.tempo, plan.downbeat_offset, plan.section_starts) == (120.0, 0.25, [4.25])
    unaided = make_plan(parse_storyboard(BOARD, path="sb.yaml"), detected())
    assert [s.start for s in unaided.shots][1:] != pytest.approx(starts[1:], abs=1 / 24)


@pytest.mark.parametrize("key,value", [("tempo", "5"), ("downbeat_offset", "-1"), ("section_starts", "[3, 2]")])
def test_bad_values_are_refused(key, value):
    from storyreel.errors import StoryreelError

    with pytest.raises(StoryreelError) as e:
        parse_storyboard(BOARD + f"{key}: {value}\n", path="sb.yaml")
    assert key in str(e.value)
