"""Continuity: the camera move carries across cuts (measured on rendered frames), and character references.

The camera tests measure the zoom from the pixels of the assembled video, not
from the camera windows: `log_zoom_step` finds the scale (about the frame
centre, plus any shift) that best maps one output frame onto the next, with
OpenCV's normalised template matching.
Within a shot a zoom_in changes the scale by the same factor every frame;
across a continuous cut the next shot starts from the previous shot's last
frame pushed in by one frame's step, so the step measured at the cut must
match the steps beside it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from fakes import RecordingModel, StillModel, make_plan, write_project
from storyreel.edit.assemble import assemble
from storyreel.edit.view import ShotView
from storyreel.errors import StoryreelError
from storyreel.output.clip import read_frames
from storyreel.pipeline import RenderOptions
from storyreel.pipeline import render as run_render
from storyreel.plan import CameraMove, ShotPlan
from storyreel.render import continuity
from storyreel.render.cache import TakeCache
from storyreel.render.takes import ShotSettings, run_in_order

# ---------------------------------------------------------------- measuring the zoom from pixels


def _grey(frame: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32), (0, 0), 1.5)


def _match(ga: np.ndarray, gb: np.ndarray, log_zoom: float) -> float:
    """Best normalised correlation of b with the centre of a zoomed by exp(log_zoom) about its centre, over shifts."""
    h, w = ga.shape
    s = math.exp(log_zoom)
    m = np.array([[s, 0, (1 - s) * (w - 1) / 2], [0, s, (1 - s) * (h - 1) / 2]], np.float32)
    pred = cv2.warpAffine(ga, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    template = pred[h // 5 : h - h // 5, w // 5 : w - w // 5]  # the middle 60 %: shifts up to 20 % are searched
    return float(cv2.matchTemplate(gb, template, cv2.TM_CCOEFF_NORMED).max())


def log_zoom_step(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(log of the zoom from frame a to frame b, its normalised correlation), measured on the pixels.

    The model of a camera zoom: b is a scaled about its centre, plus a shift
    (content moves). Search the log-zoom in -0.6..0.6 on half-size frames in
    steps of 0.04, refine at full size in steps of 0.005 around the best, and
    interpolate the peak with a parabola. On a still picture this reads the
    camera's zoom to well under 1 %.
    """
    ga, gb = _grey(a), _grey(b)
    small = [cv2.resize(g, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA) for g in (ga, gb)]
    coarse = np.arange(-0.6, 0.6001, 0.04)
    centre = coarse[int(np.argmax([_match(*small, z) for z in coarse]))]
    step = 0.005
    fine = centre + np.arange(-8, 9) * step
    score = np.array([_match(ga, gb, z) for z in fine])
    i = int(np.clip(np.argmax(score), 1, len(fine) - 2))
    curve = score[i - 1] - 2 * score[i] + score[i + 1]
    offset = 0.5 * (score[i - 1] - score[i + 1]) / curve if curve < 0 else 0.0
    return float(fine[i] + offset * step), float(score.max())


def cut_report(frames: np.ndarray, cuts: list[int], beside: int = 4) -> list[dict]:
    """For every cut c: the zoom step from frame c-1 to c, and the median of the `beside` steps on each side.

    Also "cc_beside": how well frame c matches frame c-1 zoomed by the steps beside, so `evidence` can say how
    much better the measured step fits than simply carrying on would.
    """
    out = []
    for c in cuts:
        step, cc = log_zoom_step(frames[c - 1], frames[c])
        around = [log_zoom_step(frames[k], frames[k + 1])[0]
                  for k in list(range(c - 1 - beside, c - 1)) + list(range(c, c + beside))]
        median = float(np.nanmedian(around))
        cc_beside = _match(_grey(frames[c - 1]), _grey(frames[c]), median)
        out.append({"cut": c, "step": step, "cc": cc, "beside": median, "cc_beside": cc_beside, "around": around})
    return out


# How much better (in normalised correlation) the zoom measured at a cut must fit its two frames than the
# camera's own step beside it before the difference counts as a jump. On a nearly flat picture (sky over a
# meadow) many zooms fit about equally: at one cut of the demo (v2 before hand-offs kept the layout), +0.34
# fitted at 0.992 and the camera's step at 0.9875, so the peak says nothing. A camera that restarts at a cut fits its own step at 0.3-0.5 lower.
EVIDENCE = 0.01


def is_zoom_jump(r: dict) -> bool:
    """Whether cut_report's entry `r` shows a jump of the zoom rate that the pixels can tell."""
    return abs(r["step"] - r["beside"]) > CUT_TOLERANCE and r["cc"] - r["cc_beside"] > EVIDENCE


def _render_still(tmp_path, continuous: bool, amount: float = 0.5) -> tuple[np.ndarray, ShotPlan]:
    plan = make_plan([30, 26, 34, 30], width=320, height=180,
                     cameras=[CameraMove("zoom_in", amount, continuous=continuous)] * 4)
    res = run_in_order(plan, StillModel(), TakeCache(tmp_path), ShotSettings())
    frames = np.stack(list(assemble(plan, [r.clip.frames for r in res], [r.clip.fps for r in res])))
    return frames, plan


def test_zoom_rate_measured_on_rendered_frames_does_not_jump_at_continuous_cuts(tmp_path):
    """Exact case: pictures hold still, so any change of measured zoom rate at a cut is the camera's."""
    amount = 0.5
    nominal = math.log1p(amount) / 24  # log-scale step per output frame
    frames, plan = _render_still(tmp_path, continuous=True, amount=amount)
    report = cut_report(frames, [s.start_frame for s in plan.shots[1:]])
    for r in report:
        assert all(abs(s - nominal) < 0.1 * nominal for s in r["around"]), r  # constant within shots
        # at the cut: the same step as beside it (a one-frame stall would be off by the whole nominal step)
        assert abs(r["step"] - r["beside"]) < 0.15 * nominal, r


def test_a_camera_that_restarts_at_each_cut_is_caught(tmp_path, monkeypatch):
    """The control: handing off the raw last frame (not as the camera saw it) restarts the zoom at every cut."""
    amount = 0.5
    monkeypatch.setattr(continuity, "handoff_frame", lambda plan, i, frames, fps, music=None: frames[-1])
    frames, plan = _render_still(tmp_path, continuous=True, amount=amount)
    for r, shot in zip(cut_report(frames, [s.start_frame for s in plan.shots[1:]]), plan.shots):
        assert r["step"] - r["beside"] == pytest.approx(-(shot.frames - 1) * math.log1p(amount) / 24, rel=0.1), r
        assert is_zoom_jump(r), r  # what the demo-like tests below flag


def test_handoff_is_the_frame_after_the_last_one_shown(tmp_path):
    """The next shot starts one output frame after the previous shot's last shown frame, in time and in zoom."""
    plan = make_plan([40, 40], cameras=[CameraMove("zoom_in", 0.3, continuous=True)] * 2)
    take = np.stack([np.full((48, 80, 3), 7 * t, np.uint8) for t in range(20)])  # grey level 7·t reveals time
    out = list(assemble(plan, [take, take], [8.0, 8.0]))
    handoff = continuity.handoff_frame(plan, 0, take, 8.0)
    last_shown = float(out[39].mean())
    assert float(handoff.mean()) == pytest.approx(last_shown + 7 * 8 / 24, abs=0.6)  # one output frame later
    # the shot ends before the take does (resampled at natural speed): not the take's last frame, 7 * 19
    assert float(handoff.mean()) < 7 * 19 - 10
    # the window: the camera's last window pushed in by exactly one frame's step
    rng = np.random.default_rng(0)
    texture = cv2.resize(rng.uniform(0, 255, (12, 20, 3)).astype(np.float32), (80, 48)).astype(np.uint8)
    still = np.broadcast_to(texture, (20, 48, 80, 3)).copy()
    shown = ShotView(plan, 0, still, 8.0).frame_at(39, native=True)
    pushed = continuity.handoff_frame(plan, 0, still, 8.0)
    step, _ = log_zoom_step(cv2.resize(shown, (320, 192)), cv2.resize(pushed, (320, 192)))
    assert step == pytest.approx(math.log1p(0.3) / 24, rel=0.2)


DEMO_LIKE = """\
title: continuity check
song: song.wav
seed: 1
output: {size: 320x180, fps: 24}
characters:
  she: a red heart
  he: a yellow circle
camera: {move: zoom_in, amount: 0.5, easing: linear, continuous: true}
grade: true
shots:
  - {prompt: "{she} stays still over a meadow", length: 2 beats}
  - {prompt: "{he} stays still over a meadow", length: 2 beats}
  - {prompt: "{she} stays still in a day sky", length: 2 beats}
  - {prompt: "a blue square stays still in a day sky", length: 2 beats}
  - "{he} stays still at sunset"
"""


# log-scale per frame at a cut, against the median of the 8 steps beside it. The camera's own step is 0.017
# (50 %/s at 24 fps). The v1 model's scatter at cuts was up to 0.091 (its first frame only roughly reproduces
# the frame it is conditioned on); v2, which shows the given frame itself (handoff.py), scatters up to
# 0.075 here and 0.114 in the demo; a camera that restarts at the cut jumps by 0.2 to 0.5 (about -0.4 here).
CUT_TOLERANCE = 0.12


@pytest.mark.slow
def test_demo_like_render_keeps_the_zoom_rate_across_every_cut(tmp_path, monkeypatch):
    """The built-in model, the full render (grade on), frames decoded from the MP4.

    The model is small and its pictures drift from frame to frame, so single
    steps measured inside a shot scatter around the camera's rate (about
    ±1× it, see CUT_TOLERANCE); the tolerance is set well above that scatter
    and far below the jump of a camera that restarts at the cut. The exact
    version of this check (pictures that hold still, so a one-frame stall
    would fail it) is test_zoom_rate_measured_on_rendered_frames_does_not_jump_at_continuous_cuts.
    """
    monkeypatch.setenv("STORYREEL_CACHE", str(tmp_path / "cache"))
    board = write_project(tmp_path, DEMO_LIKE, 7.0)
    out = tmp_path / "out.mp4"
    run_render(board, out, RenderOptions(cache_dir=tmp_path / "cache"))
    record = json.loads(out.with_name("out.plan.json").read_text())
    frames = read_frames(out)
    assert len(frames) == record["frames"] and frames.shape[1:3] == (180, 320)
    cuts = [s["start_frame"] for s in record["shots"][1:]]
    assert len(cuts) >= 3 and all(s["conditioned_on_previous"] for s in record["shots"][1:])

    nominal = math.log1p(0.5) / 24
    report = cut_report(frames, cuts)
    inside = np.nanmedian([s for r in report for s in r["around"]])
    assert 0.25 * nominal < inside < 2.0 * nominal  # the measurement sees the camera inside shots
    for r in report:
        assert r["cc"] > 0.6, r  # the frames either side of the cut show the same picture
        assert not is_zoom_jump(r), r

    grade = record["grade_report"]  # the colour grade ran and made the cuts closer in colour
    assert record["grade"]["match"] == "previous" and grade["mean_after"] < grade["mean_before"]


@pytest.mark.slow
def test_the_demo_keeps_its_zoom_rate_across_every_cut(tmp_path):
    """The demo storyboard itself (55 shots, one continuous zoom_in), rendered at 320x180.

    The demo's camera is slow (12 %/s: 0.0047 log-scale per frame, below the
    built-in model's frame-to-frame scatter), so this checks what matters at
    a cut: the step across it is no bigger than the steps beside it, within
    CUT_TOLERANCE, where a camera that restarts at the cut would jump back by
    the whole shot's zoom (0.2 to 0.5; test_a_camera_that_restarts_at_each_cut_is_caught
    shows the measurement catches that).
    """
    demo = Path(__file__).resolve().parents[2] / "examples" / "hardest-part" / "storyboard.yaml"
    text = demo.read_text()
    assert "output: {size: 1280x720, fps: 24}" in text
    board = tmp_path / "storyboard.yaml"
    board.write_text(text.replace("output: {size: 1280x720, fps: 24}", "output: {size: 320x180, fps: 24}"))
    out = tmp_path / "demo.mp4"
    run_render(board, out, RenderOptions(cache_dir=tmp_path / "cache", watermark=False))
    record = json.loads(out.with_name("demo.plan.json").read_text())
    assert len(record["shots"]) == 55 and all(s["conditioned_on_previous"] for s in record["shots"][1:])
    frames = read_frames(out)
    # the storyboard asks for a one-beat zoom-through at a few section changes: those are effects, not cuts
    cuts = [s["start_frame"] for s in record["shots"][1:] if s["transition"]["kind"] == "cut"]
    assert len(cuts) >= 45
    report = cut_report(frames, cuts)
    assert not [r for r in report if is_zoom_jump(r)]
    assert min(r["cc"] for r in report) > 0.5  # each cut's two frames show the same picture


# ---------------------------------------------------------------- character reference images


def _character_plan(tmp_path, colour=(200, 30, 40)):
    Image.fromarray(np.full((20, 30, 3), colour, np.uint8)).save(tmp_path / "she.png")
    characters = {"she": {"description": "a red heart", "image": str(tmp_path / "she.png")},
                  "he": {"description": "a yellow circle", "image": ""}}
    return make_plan([24, 24, 24], characters=characters, shot_characters=[["she"], ["he"], ["he", "she"]])


def test_character_reference_image_is_passed_to_the_backend(tmp_path):
    plan = _character_plan(tmp_path)
    model = RecordingModel()
    run_in_order(plan, model, TakeCache(tmp_path / "cache"), ShotSettings())
    by_shot = {q.prompt: q.reference_image for q in model.requests}
    she = by_shot[plan.shots[0].prompt]
    assert she.shape == (20, 30, 3) and she.dtype == np.uint8 and tuple(she[0, 0]) == (200, 30, 40)
    assert by_shot[plan.shots[1].prompt] is None  # "he" has no image
    assert np.array_equal(by_shot[plan.shots[2].prompt], she)
    # the built-in model (and this double) ignore it; planning says so (tests/plan: reference images ... noted)
    # a new image is a new take (the cache key includes it)
    plan2 = _character_plan(tmp_path, colour=(10, 200, 40))
    again = RecordingModel()
    run_in_order(plan2, again, TakeCache(tmp_path / "cache"), ShotSettings())
    assert {q.prompt for q in again.requests} == {plan.shots[0].prompt, plan.shots[2].prompt}


def test_unreadable_character_image_is_a_clear_error(tmp_path):
    plan = _character_plan(tmp_path)
    (tmp_path / "she.png").write_text("not an image")
    with pytest.raises(StoryreelError, match="she's reference image"):
        run_in_order(plan, RecordingModel(), TakeCache(tmp_path / "cache"), ShotSettings())


def test_builtin_model_declares_no_reference_capability():
    from storyreel.models.builtin.model import BuiltinModel

    assert "reference" not in BuiltinModel.capabilities
