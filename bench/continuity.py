"""Benchmark: does continuity work? Continuous camera + colour grade on vs off, and best-of-N takes vs one take.

    .venv/bin/python bench/continuity.py                        # the demo (examples/hardest-part), 640x360
    .venv/bin/python bench/continuity.py --reduced              # a 12 s, 5-shot demo-like storyboard (minutes on a CPU)
    .venv/bin/python bench/continuity.py --storyboard my.yaml --size 320x180 --takes 3

Three renders of the same storyboard and song, in one process, sharing one take cache:

    off         every shot's camera restarts (continuous: false), no grade, one take per shot
    on          continuous camera (each shot starts from the previous one's last frame) + grade, one take
    camera only     as `on` without the grade (its takes are `on`'s, from the cache: only assembly reruns)
    on, best-of-N   as `on`, N takes per shot, the best-scoring one kept (storyreel.scoring)

Each render runs the pipeline's own stages in the pipeline's order (plan,
conditioning fallbacks, generation with take scoring, grade, assembly) at a
reduced output size, and captures the output frames on either side of every
shot boundary from the assembly stream (the frames the encoder would get).
At each hard cut (transition `cut`) it measures

    colour   edit.histogram_distance(last frame of shot i, first frame of shot i+1), 0..1
    warp     eval.temporal.warp_error on that pair: mean |error| (0..255) after Farneback flow warping

and, as the level a viewer accepts as "no cut", the same two numbers between
two consecutive frames in the middle of every shot. It prints the means and
the ratios on/off and best-of-N/single (below 1: the cuts got smoother).
The first render of each kind generates its takes; later runs with the same
--cache reuse them, so only the first run is slow.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from storyreel.edit.assemble import assemble
from storyreel.edit.colour import histogram_distance
from storyreel.edit.grade import grade_shots
from storyreel.eval.temporal import warp_error
from storyreel.models import registry
from storyreel.music import analyze
from storyreel.job import load_job
from storyreel.plan import make_plan
from storyreel.render.cache import TakeCache
from storyreel.render.scoring import score_take
from storyreel.render.takes import ShotSettings, run_in_order
from storyreel.storyboard import parse_size

DEMO = Path(__file__).resolve().parent.parent / "examples" / "hardest-part" / "storyboard.yaml"

REDUCED = """\
title: continuity bench (reduced)
song: song.wav
seed: 7
model: builtin
output: {size: 1280x720, fps: 24}
characters:
  she: a red heart
  he: a yellow circle
camera: {move: zoom_in, amount: 0.12, easing: linear, continuous: true}
grade: true
shots:
  - {prompt: "{she} stays still over a meadow", length: 4 beats}
  - {prompt: "{he} moves left over a meadow", length: 4 beats}
  - {prompt: "{she} and {he} drift toward each other in a day sky", length: 4 beats}
  - {prompt: "{she} grows at sunset", length: 4 beats}
  - "{she} moves up and {he} moves up in the night sky"
"""


def write_reduced(folder: Path, seconds: float = 12.0, sr: int = 22050) -> Path:
    """A 5-shot demo-like storyboard and a 120 BPM tone-and-click song in `folder`; returns the storyboard."""
    import soundfile as sf

    t = np.arange(int(seconds * sr)) / sr
    song = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.5 * ((t % 0.5) < 0.01)
    sf.write(folder / "song.wav", song.astype(np.float32), sr)
    (folder / "storyboard.yaml").write_text(REDUCED)
    return folder / "storyboard.yaml"


@dataclass
class Result:
    name: str
    seconds: float = 0.0
    generated: int = 0
    cached: int = 0
    cut_colour: list[float] = field(default_factory=list)
    cut_warp: list[float] = field(default_factory=list)
    inside_colour: list[float] = field(default_factory=list)
    inside_warp: list[float] = field(default_factory=list)
    grade: dict | None = None
    mean_score: float | None = None

    def mean(self, key: str) -> float:
        values = getattr(self, key)
        return float(np.mean(values)) if values else float("nan")


def render_and_measure(sb, music, size, cache: TakeCache, name: str, *, continuous: bool, grade: bool,
                       takes: int) -> Result:
    """One render of the storyboard (see the module docstring) and its continuity numbers."""
    res = Result(name)
    t0 = time.perf_counter()
    plan = make_plan(sb, music, capabilities=registry.capabilities(sb.model), grade=grade)
    for shot in plan.shots:  # the variant measured: the storyboard's camera with continuity on or off
        shot.camera.continuous = continuous
    plan = replace(plan, width=size[0], height=size[1])
    backend = registry.get_model(plan.model)
    results = run_in_order(plan, backend, cache, ShotSettings(takes, music=music, scorer=score_take))
    res.generated = sum(not t.cached for r in results for t in r.takes)
    res.cached = sum(t.cached for r in results for t in r.takes)
    if takes > 1:
        res.mean_score = float(np.mean([r.takes[r.chosen].score for r in results]))
    frames, fps = [r.clip.frames for r in results], [r.clip.fps for r in results]
    if plan.grade is not None:
        frames, res.grade = grade_shots(plan, frames, fps, music)

    cuts = [s.start_frame for s in plan.shots[1:] if s.transition.kind == "cut"]
    mids = [(s.start_frame + s.end_frame) // 2 for s in plan.shots if s.frames >= 2]
    wanted = {g for c in cuts for g in (c - 1, c)} | {g for m in mids for g in (m - 1, m)}
    kept: dict[int, np.ndarray] = {}
    for g, frame in enumerate(assemble(plan, frames, fps, music)):  # streamed: only the pairs are kept
        if g in wanted:
            kept[g] = frame
    for pairs, colour, warp in ((cuts, res.cut_colour, res.cut_warp), (mids, res.inside_colour, res.inside_warp)):
        for g in pairs:
            a, b = kept[g - 1], kept[g]
            colour.append(histogram_distance(a, b))
            warp.append(warp_error(np.stack([a, b])))
    res.seconds = time.perf_counter() - t0
    return res


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b > 0 else "n/a"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--storyboard", type=Path, default=None, help="storyboard to measure (default: the demo)")
    ap.add_argument("--reduced", action="store_true", help="a 12 s, 5-shot demo-like storyboard instead of the demo")
    ap.add_argument("--size", default="640x360", help="output size to render at (default 640x360)")
    ap.add_argument("--takes", type=int, default=3, help="N for best-of-N (default 3)")
    ap.add_argument("--cache", type=Path, default=None, help="take cache (default: a fresh temporary one)")
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        storyboard = args.storyboard or (write_reduced(Path(tmp)) if args.reduced else DEMO)
        job = load_job(storyboard)
        sb = job.storyboard
        music = analyze(job.song, fps=sb.output.fps)
        size = parse_size(args.size)
        cache = TakeCache(args.cache or Path(tmp) / "takes")
        runs = [
            render_and_measure(sb, music, size, cache, "off", continuous=False, grade=False, takes=1),
            render_and_measure(sb, music, size, cache, "on", continuous=True, grade=True, takes=1),
            render_and_measure(sb, music, size, cache, "camera only", continuous=True, grade=False, takes=1),
            render_and_measure(sb, music, size, cache, f"on, best of {args.takes}", continuous=True, grade=True,
                               takes=args.takes),
        ]

    n_cuts = len(runs[0].cut_colour)
    print(f"continuity on {storyboard} at {size[0]}x{size[1]}: {n_cuts} hard cuts "
          f"({len(runs[0].inside_colour)} shots for the in-shot reference), model {sb.model}")
    print(f"{'render':<16} {'cut colour':>10} {'cut warp':>9} {'in-shot colour':>15} {'in-shot warp':>13} "
          f"{'grade before→after':>19} {'takes new/cached':>17} {'seconds':>8}")
    for r in runs:
        grade = f"{r.grade['mean_before']:.3f}→{r.grade['mean_after']:.3f}" if r.grade and r.grade["cuts"] else "-"
        print(f"{r.name:<16} {r.mean('cut_colour'):10.4f} {r.mean('cut_warp'):9.2f} {r.mean('inside_colour'):15.4f} "
              f"{r.mean('inside_warp'):13.2f} {grade:>19} {f'{r.generated}/{r.cached}':>17} {r.seconds:8.1f}")
    off, on, camera_only, best = runs
    print("ratios (below 1: smoother cuts)")
    print(f"  continuous camera + grade, on/off:       colour {ratio(on.mean('cut_colour'), off.mean('cut_colour'))}"
          f"   warp {ratio(on.mean('cut_warp'), off.mean('cut_warp'))}")
    print(f"  grade on/off (continuous camera both):   colour "
          f"{ratio(on.mean('cut_colour'), camera_only.mean('cut_colour'))}   warp "
          f"{ratio(on.mean('cut_warp'), camera_only.mean('cut_warp'))}")
    print(f"  best of {args.takes} / single take (both on):   colour "
          f"{ratio(best.mean('cut_colour'), on.mean('cut_colour'))}   "
          f"warp {ratio(best.mean('cut_warp'), on.mean('cut_warp'))}")
    print(f"  cut / in-shot with continuity on:        colour {ratio(on.mean('cut_colour'), on.mean('inside_colour'))}"
          f"   warp {ratio(on.mean('cut_warp'), on.mean('inside_warp'))}   (1 = a cut looks like any other frame)")
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in runs], indent=2) + "\n")


if __name__ == "__main__":
    main()
