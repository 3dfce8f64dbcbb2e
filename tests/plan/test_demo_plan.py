"""The demo, analysed from its audio and planned: every cut on a true downbeat of the song generator."""

from pathlib import Path

import pytest

from storyreel.music import demo_song
from storyreel.music import analyze
from storyreel.plan import make_plan
from storyreel.storyboard import load_storyboard

DEMO = Path(__file__).resolve().parents[2] / "examples" / "hardest-part" / "storyboard.yaml"


@pytest.mark.slow
def test_demo_shot_boundaries_all_fall_on_the_generators_downbeats(tmp_path):
    song = tmp_path / "demo.wav"
    truth = demo_song.synthesize(song)
    music = analyze(song, cache_dir=tmp_path / "cache")
    plan = make_plan(load_storyboard(DEMO), music)
    fps = plan.fps
    true_frames = {round(t * fps) for t in truth.downbeats}
    inner = [s.start_frame for s in plan.shots[1:]]
    assert 50 <= len(plan.shots) <= 60
    # analysis finds each downbeat within a few milliseconds; a boundary may round to the neighbouring frame
    off = [b for b in inner if not any(abs(b - f) <= 1 for f in true_frames)]
    assert off == [], f"{len(off)} of {len(inner)} boundaries are not on a downbeat: {off[:5]}"
    assert plan.frames == round(music.duration * fps) and plan.shots[-1].end_frame == plan.frames
