"""The storyboard round-trips: byte-identical untouched, comments and order kept when edited, stale writes refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import STUDIO_BOARD
from storyreel.storyboard import parse_storyboard
from storyreel.studio.yaml_doc import Stale, StoryboardDoc, apply_edits, guess_indent, round_trip, version_of

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*/storyboard.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_examples_round_trip_byte_identical(path):
    text = path.read_text()
    assert round_trip(text) == text


def test_the_test_board_round_trips_and_no_edits_change_nothing():
    assert round_trip(STUDIO_BOARD) == STUDIO_BOARD
    assert apply_edits(STUDIO_BOARD, []) == STUDIO_BOARD


def test_an_edit_keeps_comments_and_key_order():
    out = apply_edits(STUDIO_BOARD, [(["shots", 1, "prompt"], "a purple circle moves left")])
    assert "a purple circle moves left" in out
    for comment in ("# A small storyboard", "# the title", "# the lead", "# the opening", "# plain-string shot"):
        assert comment in out
    keys = [line.split(":")[0] for line in out.splitlines() if line and line[0].isalpha()]
    assert keys == ["title", "song", "model", "output", "style", "characters", "timeline", "shots"]
    assert out.replace("a purple circle moves left", "a blue square moves up") == STUDIO_BOARD


def test_a_plain_string_shot_becomes_a_mapping_only_when_needed():
    renamed = apply_edits(STUDIO_BOARD, [(["shots", 2, "prompt"], "a pink heart grows")])
    assert "  - a pink heart grows       # plain-string shot" in renamed
    timed = apply_edits(STUDIO_BOARD, [(["shots", 2, "length"], "4 beats")])
    sb = parse_storyboard(timed)
    assert sb.shots[2].prompt == "a green star grows" and sb.shots[2].length == "4 beats"
    assert apply_edits(STUDIO_BOARD, [(["shots", 2, "length"], None)]) == STUDIO_BOARD  # nothing to remove


def test_a_stale_write_is_refused_and_writes_nothing(tmp_path):
    path = tmp_path / "b.yaml"
    path.write_text(STUDIO_BOARD)
    doc = StoryboardDoc(path)
    _, v0 = doc.read()
    v1 = doc.write(STUDIO_BOARD + "# one\n", v0)
    assert v1 == version_of(path.read_bytes())
    with pytest.raises(Stale, match="changed since"):
        doc.write(STUDIO_BOARD + "# two\n", v0)
    assert path.read_text() == STUDIO_BOARD + "# one\n"


def test_indentation_is_read_from_the_text():
    assert guess_indent(STUDIO_BOARD) == (2, 4, 2)
    assert guess_indent("a:\n    b: 1\nc:\n- x\n") == (4, 2, 0)
    text = "a:\n    b: 1\nc:\n- x\n- y: 1\n  z: 2\n"
    assert round_trip(text) == text
