"""`storyreel analyze`: the confidence line, and a warning naming the storyboard override when unsure."""

from __future__ import annotations

from fakes import make_music_map
from storyreel.cli.analyze import confidence_lines


def test_sure_analysis_prints_confidence_and_no_warning():
    mm = make_music_map()
    mm.confidence = {"tempo": 0.9, "meter": 0.8, "downbeat": 0.7}
    assert confidence_lines(mm) == ["confidence: tempo 0.90, meter 0.80, downbeat 0.70"]


def test_each_unsure_choice_names_its_override():
    mm = make_music_map()
    mm.confidence = {"tempo": 0.2, "meter": 0.3, "downbeat": 0.1}
    lines = confidence_lines(mm)
    assert len(lines) == 4
    assert "`tempo:`" in lines[1] and "`beats_per_bar:`" in lines[2] and "`downbeat_offset:`" in lines[3]
    assert all(line.startswith("warning: unsure") for line in lines[1:])


def test_a_map_without_confidences_prints_nothing():
    assert confidence_lines(make_music_map()) == []
