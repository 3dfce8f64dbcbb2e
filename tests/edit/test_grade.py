"""The colour grade: each cut matched in colour, easing out over the shot; and the storyboard's `grade:`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from fakes import make_music_map, make_plan, make_take
from storyreel.edit.colour import histogram_distance
from storyreel.edit.grade import cut_distances, grade_shots
from storyreel.edit.view import ShotView
from storyreel.errors import StoryreelError
from storyreel.plan import Grade, ShotPlan
from storyreel.plan import make_plan as plan_storyboard
from storyreel.storyboard import parse_storyboard


def _two_shots(strength=1.0, ramp=True, match="previous", reference=""):
    plan = make_plan([24, 24])
    plan.grade = Grade(match, strength, ramp, reference)
    warm = make_take(24, seed=1)
    cool = np.clip(make_take(24, seed=2).astype(np.int16) * [0.5, 0.8, 1.3], 0, 255).astype(np.uint8)
    return plan, [warm, cool], [24.0, 24.0]


def test_grade_matches_the_cut_and_eases_out_over_the_shot():
    plan, frames, fps = _two_shots()
    graded, report = grade_shots(plan, frames, fps)
    before, after = cut_distances(plan, frames, fps), cut_distances(plan, graded, fps)
    assert after[0] < 0.5 * before[0] and report["mean_after"] == pytest.approx(after[0], abs=1e-4)
    assert np.array_equal(graded[0], frames[0])  # nothing before the first shot
    change = [np.abs(g.astype(int) - f).mean() for g, f in zip(graded[1], frames[1])]
    assert change[0] > 10 and change[-1] < 0.5  # full grade at the cut, its own colours by the end
    assert all(a >= b - 0.5 for a, b in zip(change, change[1:]))  # eases out monotonically


def test_grade_without_ramp_and_with_partial_strength():
    plan, frames, fps = _two_shots(ramp=False)
    held, _ = grade_shots(plan, frames, fps)
    change = [np.abs(g.astype(int) - f).mean() for g, f in zip(held[1], frames[1])]
    assert min(change) > 10  # the whole shot is graded
    plan, frames, fps = _two_shots(strength=0.5)
    half, _ = grade_shots(plan, frames, fps)
    full, _ = grade_shots(_two_shots()[0], frames, fps)
    d = lambda g: cut_distances(plan, g, fps)[0]  # noqa: E731
    assert d(full) < d(half) < d(frames)


def test_grade_to_a_reference_image(tmp_path):
    ref = np.zeros((30, 40, 3), np.uint8)
    ref[..., 1] = np.linspace(60, 200, 40, dtype=np.uint8)[None]
    Image.fromarray(ref).save(tmp_path / "look.png")
    plan, frames, fps = _two_shots(match="reference", ramp=False, reference=str(tmp_path / "look.png"))
    graded, report = grade_shots(plan, frames, fps)
    for i in range(2):
        first = ShotView(plan, i, graded[i], fps[i]).frame_at(plan.shots[i].start_frame, native=True)
        assert histogram_distance(first, ref) < 0.5 * histogram_distance(frames[i][0], ref)
    assert report["match"] == "reference"


def test_grade_off_changes_nothing():
    plan, frames, fps = _two_shots()
    plan.grade = None
    assert grade_shots(plan, frames, fps) == (frames, None)


SONG = make_music_map(bpm=120, sections=[("verse", 4), ("chorus", 4)])


def test_grade_in_the_storyboard(tmp_path):
    def grade_of(text):
        return plan_storyboard(parse_storyboard(f"song: demo\n{text}\nshots: [a, b]\n", path=tmp_path / "sb.yaml"),
                               SONG).grade

    assert grade_of("grade: true") == Grade("previous", 1.0, True, "")
    assert grade_of("grade: false") is None and grade_of("") is None
    assert grade_of("grade: {strength: 0.5, ramp: false}") == Grade("previous", 0.5, False, "")
    (tmp_path / "look.png").write_bytes(b"")
    g = grade_of("grade: {match: reference, reference: look.png}")
    assert (g.match, g.ramp, g.reference) == ("reference", False, str((tmp_path / "look.png").resolve()))
    plan = plan_storyboard(parse_storyboard("song: demo\ngrade: true\nshots: [a, b]\n"), SONG)
    assert ShotPlan.from_dict(json.loads(json.dumps(plan.to_dict()))).grade == plan.grade
    for text, line, field, words in (
        ("grade: {match: nearest}", 2, "grade.match", "previous, reference"),
        ("grade: {match: reference}", 2, "grade", "needs a `reference:`"),
        ("grade: {strength: 2}", 2, "grade.strength", "out of range"),
        ("grade: {reference: look.png}", 2, "grade.reference", "only used with"),
        ("grade:\n  match: reference\n  reference: missing.png", 4, "grade.reference", "not found"),
    ):
        with pytest.raises(StoryreelError) as info:
            parse_storyboard(f"song: demo\n{text}\nshots: [a]\n", path=tmp_path / "sb.yaml", check_files=True)
        assert (info.value.line, info.value.field) == (line, field) and words in info.value.message, text
