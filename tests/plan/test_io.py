"""The plan as JSON: a round trip, a render's record read back, and an edited plan's mistakes located."""

from __future__ import annotations

import json

import pytest

from fakes import make_music_map
from storyreel.errors import StoryreelError
from storyreel.plan import make_plan, plan_from_json, plan_to_json, read_plan
from storyreel.storyboard import parse_storyboard

SONG = make_music_map(100, sections=[("intro", 4), ("verse", 8), ("chorus", 8)])
BOARD = """\
song: demo
camera: {move: zoom_in, continuous: true}
shots:
  - {prompt: a red heart grows, length: 4 bars}
  - {prompt: a blue circle shrinks, length: 4 bars, transition: {kind: crossfade, beats: 2}}
  - a yellow star stays still
"""


def _plan(**kwargs):
    return make_plan(parse_storyboard(BOARD, path="sb.yaml"), SONG, **kwargs)


def test_json_round_trip_and_errors() -> None:
    p = _plan()
    text = plan_to_json(p)
    assert plan_from_json(text) == p
    with pytest.raises(StoryreelError) as info:
        plan_from_json('{\n  "title": \n}', file="plan.json")
    assert (info.value.file, info.value.line) == ("plan.json", 3)
    with pytest.raises(StoryreelError, match="not a storyreel plan"):
        plan_from_json('{"title": "x"}')


def test_the_json_carries_the_cut() -> None:
    p = _plan(capabilities={"t2v"})
    data = json.loads(plan_to_json(p))
    assert [c["kind"] for c in data["cut"]] == ["cut", "crossfade", "zoom_through"]  # the fallback, planned
    assert data["cut"][1]["pre"] + data["cut"][1]["post"] == p.shots[1].transition.frames
    assert [c["span"] for c in data["cut"]] == [list(s) for s in p.cut.spans]
    assert data["cut"][0]["span"] == [0, p.shots[0].end_frame + data["cut"][1]["post"]]


def test_an_edited_transition_changes_the_cut_derived_on_reading(tmp_path) -> None:
    data = json.loads(plan_to_json(_plan()))
    data["shots"][1]["transition"] = {"kind": "zoom_through", "beats": 1.0, "frames": 10}
    path = tmp_path / "edited.plan.json"
    path.write_text(json.dumps(data, indent=2))
    p = read_plan(path)
    assert (p.cut.into(1).kind, p.cut.into(1).frames) == ("zoom_through", 10)
    assert p.cut.span(0)[1] == p.shots[0].end_frame + 5  # the outgoing shot now runs 5 frames past its cut


def test_a_renders_record_reads_back_as_its_plan(tmp_path) -> None:
    p = _plan()
    data = p.to_dict()
    data["grade_report"] = {"mean_before": 0.3}
    for shot in data["shots"]:
        shot.update(take=0, takes=[{"take": 0}], generated={"frames": 16}, conditioned_on_previous=True)
    assert plan_from_json(json.dumps(data)) == p


@pytest.mark.parametrize("edit, line_key, field, words", [
    (lambda d: d["shots"][1]["transition"].update(kind="wipe"), '"kind": "wipe"', "shots[1].transition.kind",
     '"wipe" is not one of: cut, crossfade, zoom_through'),
    (lambda d: d["shots"][2]["camera"].update(move="spin"), '"move": "spin"', "shots[2].camera.move",
     "is not one of: static, zoom_in"),
    (lambda d: d["shots"][1].update(promt="typo"), '"promt"', "shots[1].promt", "unknown key"),
    (lambda d: d["shots"][2].update(start_frame=d["shots"][2]["start_frame"] + 3), None, "shots[2].start_frame",
     "must start at"),
])
def test_edited_plan_mistakes_name_file_line_and_field(tmp_path, edit, line_key, field, words) -> None:
    data = json.loads(plan_to_json(_plan()))
    edit(data)
    path = tmp_path / "p.plan.json"
    text = json.dumps(data, indent=2)
    path.write_text(text)
    with pytest.raises(StoryreelError) as info:
        read_plan(path)
    e = info.value
    assert (e.file, e.field) == (str(path), field) and words in e.message, e.format()
    if line_key is not None:
        assert e.line == next(i for i, line in enumerate(text.splitlines(), 1) if line_key in line)
    assert "\n" not in e.format()


def test_a_missing_plan_file_is_one_line(tmp_path) -> None:
    with pytest.raises(StoryreelError, match="no such plan file"):
        read_plan(tmp_path / "none.json")
