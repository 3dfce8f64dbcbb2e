"""The colour anchor: every window of an extended take graded back to the first window's colours, smoothly."""

import numpy as np

from fakes import RecordingModel, make_plan
from storyreel.edit.anchor import anchor_windows, drift
from storyreel.edit.grade import grade_shots
from storyreel.models import chain
from storyreel.models.base import GenerationRequest
from storyreel.plan import Grade


def drifting_take(windows=6, per=12, step=10):
    """A moving gradient whose colours creep by `step` levels (red up, blue down) over each window, as an
    extension does: continuous across window boundaries (each window continues the last frames of the one
    before), adding up over the take."""
    frames = []
    x = np.linspace(40, 200, 64)[None, :]
    for t in range(windows * per):
        base = np.roll(x, t, axis=1).repeat(32, axis=0)
        shift = step * t / per
        frames.append(np.clip(np.stack([base + shift, base, base - shift], axis=-1), 0, 255).astype(np.uint8))
    spans = [(w * per, (w + 1) * per) for w in range(windows)]
    return np.stack(frames), spans


def test_the_anchor_removes_the_drift_that_adds_up_over_five_extensions():
    frames, spans = drifting_take()
    raw = drift(frames, spans)
    fixed = drift(anchor_windows(frames, spans), spans)
    assert raw[-1] > 0.2 and raw == sorted(raw)  # drift grows with every extension
    assert fixed[-1] < 0.05 and max(fixed) < 0.05
    assert np.array_equal(anchor_windows(frames, spans)[: spans[0][1] // 2], frames[: spans[0][1] // 2])
    # frame to frame, the anchored take changes colour no faster than the raw one creeps
    creep = np.abs(np.diff(frames[..., 0].astype(int).mean(axis=(1, 2)))).max()
    assert np.abs(np.diff(anchor_windows(frames, spans)[..., 0].astype(int).mean(axis=(1, 2)))).max() <= creep + 1


def test_the_correction_does_not_jump_at_a_window_boundary():
    frames, spans = drifting_take(windows=3)
    red = anchor_windows(frames, spans)[..., 0].astype(int).mean(axis=(1, 2))
    for a, _ in spans[1:]:
        assert abs(red[a] - red[a - 1]) < 2.0  # tables interpolated between window centres, no switch at a


def test_generate_long_records_its_windows_and_the_grade_anchors_them():
    model = RecordingModel()
    clip = chain.generate_long(model, GenerationRequest("x", frames=16), n_frames=40, overlap=4)
    assert clip.info["windows"] == [[0, 16], [16, 28], [28, 40]]
    frames, spans = drifting_take(windows=3, per=16)
    plan = make_plan([48], width=64, height=32)
    plan.grade = Grade()
    graded, report = grade_shots(plan, [frames], [24.0], windows=[[list(s) for s in spans]])
    (row,) = report["anchored"]
    assert row["windows"] == 3 and row["drift_after"] < row["drift_before"] / 2
    _, off = grade_shots(plan, [frames], [24.0], windows=[[list(s) for s in spans]], anchor=False)
    assert off["anchored"] == []
