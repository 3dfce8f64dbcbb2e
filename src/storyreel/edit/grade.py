"""Colour continuity: grade each shot so that the cut into it does not jump in colour.

Every shot is a fresh generation, so even when its first frame is conditioned
on the previous shot's last frame (continuous camera) its colours drift, and
without conditioning they can be anywhere. The grade (`grade:` in the
storyboard, `--grade/--no-grade` on `storyreel render`) runs between
generation and assembly, on each chosen take's native frames:

1. The *target* is what the viewer saw just before the shot: the previous
   shot's last output frame (`match: previous`, the default; the previous
   shot as already graded), or a reference image (`match: reference`).
2. The *source* is the shot's own first output frame. Both come from the
   shots' views (edit.view.ShotView, at the take's native size), so the
   histograms compare exactly what is on screen on either side of the cut.
3. `edit.colour.match_histograms` builds one look-up table per channel that maps
   the source's colour distribution onto the target's.
4. The table is applied to every native frame with a weight: `strength` at
   the shot's first output frame, easing out (smoothstep) to zero at its
   last (`ramp: true`, the default for `match: previous`), or `strength` on
   every frame (`ramp: false`, the default for `match: reference`).

Why a ramp: a constant table would carry the first shot's look through the
whole video (each shot matched to an already-matched one), flattening a
`timeline` of eras into one look. With the ramp each cut is seamless and each
shot still arrives at its own colours by its end, so the look changes over
the song as a slow drift instead of a jump at a cut.

Before any of that, a shot made of several generations (an extended take)
is anchored to its first window's colours (edit.anchor), so the drift of
each extension does not add up over a long shot.

The effect is measured as the colour-histogram distance (`edit.colour.histogram_distance`)
between the last output frame of each shot and the first of the next, before
and after grading; `grade_shots` returns it and the render writes it to the
plan JSON (`grade_report`).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import StoryreelError
from ..plan import ShotPlan
from .anchor import anchor_windows, drift
from .colour import histogram_distance, match_histograms
from .view import ShotView


def ramp_weights(view: ShotView, strength: float, ramp: bool) -> np.ndarray:
    """Grade weight per native frame of the view's take: `strength` at the shot's first output frame, 0 at its last."""
    n_frames = len(view.frames)
    if not ramp:
        return np.full(n_frames, float(strength))
    shot, pos, a = view.plan.shots[view.index], view.positions, view.span[0]
    p0, p1 = pos[shot.start_frame - a], pos[shot.end_frame - 1 - a]
    u = np.clip((np.arange(n_frames) - p0) / max(p1 - p0, 1e-9), 0.0, 1.0)
    return strength * (1.0 - u * u * (3.0 - 2.0 * u))  # smoothstep ease-out: holds, then lets go


def grade_take(frames: np.ndarray, source: np.ndarray, target: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Frames (T, H, W, 3) graded by the table that maps `source`'s histograms onto `target`'s, weighted per frame."""
    full = match_histograms(np.concatenate([source[None], frames]), target, 1.0)[1:]  # table from `source`
    out = np.empty_like(frames)
    for t, w in enumerate(weights):
        if w <= 0:
            out[t] = frames[t]
        elif w >= 1:
            out[t] = full[t]
        else:
            out[t] = cv2.addWeighted(frames[t], 1.0 - float(w), full[t], float(w), 0.0)
    return out


def first_shown(view: ShotView) -> np.ndarray:
    """The shot's first output frame, at the take's native size."""
    return view.frame_at(view.plan.shots[view.index].start_frame, native=True)


def last_shown(view: ShotView) -> np.ndarray:
    """The shot's last output frame, at the take's native size."""
    return view.frame_at(view.plan.shots[view.index].end_frame - 1, native=True)


def cut_distances(plan: ShotPlan, frames: list[np.ndarray], fps: list[float], music=None) -> list[float]:
    """Colour-histogram distance across every cut: last output frame of shot i vs first of shot i+1."""
    views = [ShotView(plan, i, frames[i], fps[i], music) for i in range(len(plan.shots))]
    return [histogram_distance(last_shown(a), first_shown(b)) for a, b in zip(views, views[1:])]


def load_reference(path: str) -> np.ndarray:
    """The grade's reference image as (H, W, 3) uint8 RGB."""
    from PIL import Image  # deferred: only `match: reference` reads an image

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except OSError as e:
        raise StoryreelError(f"cannot read the grade's reference image: {e}", file=path) from None


def grade_shots(
    plan: ShotPlan, frames: list[np.ndarray], fps: list[float], music=None,
    windows: list[list | None] | None = None, anchor: bool = True,
) -> tuple[list[np.ndarray], dict | None]:
    """Apply `plan.grade` to every shot's native frames; returns (frames, report) or (frames, None) when off.

    windows: per shot, the generation windows of its take (Clip.info["windows"]; None: one generation); an
    extended take is first anchored to its first window's colours (edit.anchor), unless `anchor` is off.
    The report: the grade settings, the histogram distance across each cut
    before and after, and their means, and the anchored shots' drift before and after.
    """
    g = plan.grade
    if g is None or not plan.shots:
        return frames, None
    before = cut_distances(plan, frames, fps, music)
    anchored = []
    if anchor and windows:
        frames = list(frames)
        for i, w in enumerate(windows):
            if w and len(w) > 1:
                raw = drift(frames[i], w)[-1]
                frames[i] = anchor_windows(frames[i], w)
                anchored.append({"shot": i + 1, "windows": len(w), "drift_before": round(raw, 4),
                                 "drift_after": round(drift(frames[i], w)[-1], 4)})
    reference = load_reference(g.reference) if g.match == "reference" else None
    graded: list[np.ndarray] = []
    for i in range(len(plan.shots)):
        if reference is None and i == 0:
            graded.append(frames[0])  # nothing before the first shot to match
            continue
        view = ShotView(plan, i, frames[i], fps[i], music)
        if reference is not None:
            target = reference
        else:  # the previous shot as already graded
            target = last_shown(ShotView(plan, i - 1, graded[i - 1], fps[i - 1], music))
        graded.append(grade_take(frames[i], first_shown(view), target, ramp_weights(view, g.strength, g.ramp)))
    after = cut_distances(plan, graded, fps, music)
    report = {
        "match": g.match, "strength": g.strength, "ramp": g.ramp,
        "cuts": [{"into_shot": i + 2, "before": round(b, 4), "after": round(a, 4)}
                 for i, (b, a) in enumerate(zip(before, after))],
        "mean_before": round(float(np.mean(before)), 4) if before else None,
        "mean_after": round(float(np.mean(after)), 4) if after else None,
        "anchored": anchored,
    }
    return graded, report
