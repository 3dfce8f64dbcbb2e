"""Dragged cuts: the nearest beat or downbeat, as lengths the planner places; cuts it cannot move are refused."""

from __future__ import annotations

import pytest

from fakes import make_music_map
from storyreel.errors import StoryreelError
from storyreel.plan import make_plan
from storyreel.plan.grid import Grid
from storyreel.storyboard import parse_storyboard
from storyreel.studio.boundary import boundary_edits, snap
from storyreel.studio.yaml_doc import apply_edits

BOARD = """\
song: song.wav
shots:
  - {prompt: a red circle moves left, length: 2 bars}
  - {prompt: a blue square moves up, length: 1 bar}
  - a green star grows
"""
MUSIC = make_music_map(bpm=120, bars=8)  # a beat every 0.5 s, a bar every 2 s


def _plan(text: str):
    return make_plan(parse_storyboard(text), MUSIC)


@pytest.mark.parametrize("to,t,expect", [("beat", 2.8, 3.0), ("beat", 2.2, 2.0), ("downbeat", 3.4, 4.0),
                                         ("downbeat", 2.9, 2.0)])
def test_a_cut_moves_to_the_nearest_beat_or_downbeat(to, t, expect):
    plan = _plan(BOARD)
    edits, _ = boundary_edits(plan, MUSIC, 0, t, to)
    moved = _plan(apply_edits(BOARD, edits))
    assert moved.shots[1].start == pytest.approx(expect, abs=1 / 24)
    assert moved.shots[2].start == pytest.approx(plan.shots[2].start, abs=1 / 24)  # the next cut stays


def test_a_cut_never_passes_the_neighbouring_cuts():
    plan = _plan(BOARD)
    edits, _ = boundary_edits(plan, MUSIC, 0, 99.0)
    moved = _plan(apply_edits(BOARD, edits))
    assert moved.shots[1].start < moved.shots[2].start == pytest.approx(plan.shots[2].start, abs=1 / 24)


def test_no_beat_between_is_an_error():
    grid = Grid(MUSIC, 24)
    with pytest.raises(StoryreelError, match="no downbeat"):
        snap(grid, 1.0, 0, 3, "downbeat")


def test_a_cut_between_storyboard_sections_is_not_dragged():
    text = """\
song: song.wav
sections:
  - {shots: [a red circle moves left, a blue square moves up]}
  - {shots: [a green star grows]}
"""
    plan = make_plan(parse_storyboard(text), make_music_map(bpm=120, sections=[("verse", 4), ("chorus", 4)]))
    with pytest.raises(StoryreelError, match="section"):
        boundary_edits(plan, MUSIC, 1, 8.0)
    edits, _ = boundary_edits(plan, MUSIC, 0, 3.0)
    assert edits[0][0] == ["sections", 0, "shots", 0, "length"]
