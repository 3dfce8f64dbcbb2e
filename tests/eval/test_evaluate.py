"""`storyreel eval builtin`: held-out captions, scoring against the caption, and the CLI's JSON."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from storyreel.cli import app
from storyreel.eval.evaluate import Reading, _score, classify_motion, heldout_set
from storyreel import world


def test_heldout_captions_are_unseen_combinations_and_phrasings():
    items = heldout_set(10, 5)
    assert len(items) == 15
    assert all(any(world.is_heldout(t, s.setting) for t in s.things) for s, _ in items)
    assert all(s.camera == "static" for s, _ in items)
    rng = np.random.default_rng(0)
    trained = {world.caption(s, rng) for s, _ in items for _ in range(20)}
    assert not trained & {c for _, c in items}


def test_classify_motion_from_tracks():
    t = np.linspace(0, 1, 16)[:, None]
    still = np.array([[0.8, 0.5, 0.1]])
    assert classify_motion(still + t * [0.4, 0, 0]) == "right"
    assert classify_motion(still - t * [0.4, 0, 0]) == "left"
    assert classify_motion(still - t * [0, 0.4, 0]) == "up"
    assert classify_motion(still * (1 + t * [0, 0, 1.5])) == "grows"
    assert classify_motion(still * (1 - t * [0, 0, 0.6])) == "shrinks"
    assert classify_motion(np.repeat(still, 16, 0)) == "still"


def test_score_forgives_a_left_right_swap_but_not_a_wrong_binding():
    a, b = world.Thing("red", "star", "left"), world.Thing("blue", "circle", "right")
    scene = world.Scene((a, b), "sunset", "static")
    swapped = Reading("sunset", [("blue", "circle", "right"), ("red", "star", "left")])
    crossed = Reading("sunset", [("red", "circle", "left"), ("blue", "star", "right")])
    _, two = _score([swapped], [scene])
    assert two["binding"] == 1.0 and two["colour"] == 1.0
    _, two = _score([crossed], [scene])
    assert two["binding"] == 0.0 and two["colour"] == 1.0 and two["shape"] == 0.0


def test_eval_cli_prints_json_with_model_and_ceiling():
    res = CliRunner().invoke(app, ["eval", "builtin", "--json", "--n-one", "3", "--n-two", "2", "--steps", "4"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["n_one"] == 3 and data["n_two"] == 2
    for attr in ("colour", "shape", "motion", "setting"):
        assert 0.0 <= data["one_object"][attr] <= 1.0
        assert data["ceiling_one_object"][attr] >= 2 / 3  # the probe reads the renderer's videos
    assert "binding" in data["two_object"]
    assert data["speed"]["seconds_per_clip"] > 0
    tm = data["temporal"]
    assert tm["flicker_renderer"] >= 0
    # the shipped v2 draws the bold world, so the reference does too, and the classic figure is kept beside it
    assert tm["renderer_style"] == "bold" and tm["flicker_renderer_classic"] != tm["flicker_renderer"]


def test_new_words_never_appear_in_training_captions():
    from storyreel.eval import evaluate as ev

    new = [w for table in (ev.EVAL_COLOUR_WORDS, ev.EVAL_SHAPE_WORDS, ev.EVAL_MOTION_WORDS, ev.EVAL_SETTING_WORDS)
           for words in table.values() for w in words]
    rng = np.random.default_rng(0)
    captions = [world.caption(world.random_scene(rng, heldout=None), rng) for _ in range(3000)]
    for w in new:
        assert not any(w in c for c in captions), w
    held = ev.heldout_set(8, 4)
    assert all(any(w in text for w in new) for _, text in held)
    assert ev.heldout_set(8, 4, words="training") != held
