"""Benchmark: how often the built-in model's planner reads a prompt's colour, shape, motion and setting right.

    .venv/bin/python bench/planner_reading.py [--n 300]

Two word sets, each in the eval's one-object templates: the bench's own
everyday phrasings below (written for this bench, never in the world's
captions; the planner was developed against them, so they are its dev set),
and the evaluation's reserved words (evaluate.EVAL_*_WORDS), which the
planner's hand-written lexicon is tested never to contain. The model draws
what the planner read (on the eval's held-out captions it drew the planned
colour and motion in 100 % of clips), so this bounds the eval's scores.
"""

from __future__ import annotations

import argparse

import numpy as np

from storyreel.eval import evaluate
from storyreel.models.builtin.planner import plan_scene

DEV_COLOURS = {
    "red": ["crimson", "scarlet", "blood-red", "brick-red", "garnet", "vermilion"],
    "orange": ["tangerine", "amber", "rust-orange", "copper", "burnt orange", "marigold"],
    "yellow": ["lemon", "golden", "mustard", "butter-yellow", "daffodil", "saffron"],
    "green": ["emerald", "lime", "olive", "mint", "forest-green", "grass-green"],
    "blue": ["cobalt", "azure", "navy", "sky-blue", "cerulean", "royal blue"],
    "purple": ["violet", "lavender", "indigo", "mauve", "grape", "lilac"],
    "pink": ["rose", "salmon-pink", "bubblegum", "fuchsia", "peach-pink", "candy-pink"],
    "white": ["ivory", "snowy", "milky", "cream-white", "snow-white", "silver-white"],
}
DEV_SHAPES = {
    "circle": ["ball", "coin", "ring-shaped disc", "round thing", "sphere", "globe"],
    "square": ["box", "brick", "block", "rectangle", "slab", "square tile"],
    "triangle": ["pyramid", "wedge", "triangular sign", "arrowhead", "cone", "tri-angle"],
    "star": ["five-pointed star", "starlet", "twinkling star", "star-shaped figure", "pentagram", "sparkly star"],
    "heart": ["love heart", "heart-shaped figure", "cardioid", "heart symbol", "sweetheart shape", "heart-shaped sign"],
}
DEV_MOTIONS = {
    "left": ["slides leftward", "wanders to the left", "drifts westward", "scoots left", "travels leftwards", "is moving left"],
    "right": ["slides rightward", "wanders to the right", "drifts eastward", "scoots right", "travels rightwards", "is moving right"],
    "up": ["floats up", "lifts off", "rises slowly", "is climbing", "soars upward", "flies up"],
    "down": ["sinks slowly", "tumbles down", "is falling", "plummets", "dips downward", "comes down"],
    "grows": ["expands", "swells up", "is growing", "inflates", "gets bigger", "enlarges"],
    "shrinks": ["contracts", "is shrinking", "dwindles", "deflates", "gets smaller", "shrivels"],
    "still": ["stays put", "holds still", "sits motionless", "is not moving", "stays in place", "rests"],
}
DEV_SETTINGS = {
    "day sky": ["on a sunny day", "under blue skies", "in broad daylight", "in a clear sky"],
    "sunset": ["at dusk", "at the end of the day", "in the evening glow", "as evening falls"],
    "night sky": ["at night", "under the stars", "in the night", "late at night"],
    "meadow": ["in a field", "over green grass", "on the lawn", "over a meadow of flowers"],
}


def reading(tables: tuple[dict, dict, dict, dict], n: int, seed: int = 0) -> dict[str, float]:
    """Per-fact accuracy (%) of plan_scene over n random one-object captions drawn from the word tables."""
    colours, shapes, motions, settings = tables
    rng = np.random.default_rng(seed)
    right = {"colour": 0, "shape": 0, "motion": 0, "setting": 0}
    pick = lambda table: (k := str(rng.choice(list(table))), str(rng.choice(list(table[k]))))  # noqa: E731
    for i in range(n):
        (c, cw), (s, sw), (m, mw), (st, stw) = pick(colours), pick(shapes), pick(motions), pick(settings)
        subject = f"a {cw} {sw}"
        text = (f"{subject} {mw} {stw}", f"{stw}, {subject} {mw}", f"we see {subject} that {mw} {stw}")[i % 3]
        scene = plan_scene(text)
        thing = scene.things[0] if len(scene.things) == 1 else None
        right["colour"] += thing is not None and thing.colour == c
        right["shape"] += thing is not None and thing.shape == s
        right["motion"] += thing is not None and thing.motion == m
        right["setting"] += scene.setting == st
    return {k: 100.0 * v / n for k, v in right.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300, help="captions per word set")
    args = ap.parse_args()
    sets = {"everyday (dev)": (DEV_COLOURS, DEV_SHAPES, DEV_MOTIONS, DEV_SETTINGS),
            "eval's reserved": (evaluate.EVAL_COLOUR_WORDS, evaluate.EVAL_SHAPE_WORDS, evaluate.EVAL_MOTION_WORDS,
                                evaluate.EVAL_SETTING_WORDS)}
    print(f"{'words':<16} {'colour':>7} {'shape':>7} {'motion':>7} {'setting':>8}   ({args.n} one-object captions each)")
    for name, tables in sets.items():
        r = reading(tables, args.n)
        print(f"{name:<16} {r['colour']:6.1f}% {r['shape']:6.1f}% {r['motion']:6.1f}% {r['setting']:7.1f}%")


if __name__ == "__main__":
    main()
