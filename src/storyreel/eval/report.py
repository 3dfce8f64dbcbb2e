"""Tables for `storyreel eval`."""

from __future__ import annotations

from rich.table import Table

from .evaluate import EvalResult


def _pct(v: float) -> str:
    return "-" if v != v else f"{100 * v:.0f}%"


def eval_table(res: EvalResult) -> Table:
    """Model vs renderer ceiling, per attribute; then temporal metrics and speed."""
    t = Table(title="built-in model on held-out captions (pixel probe)")
    t.add_column("metric")
    t.add_column("model", justify="right")
    t.add_column("renderer (ceiling)", justify="right")
    for attr in ("colour", "shape", "motion", "setting"):
        t.add_row(f"one object: {attr}", _pct(res.one_object[attr]), _pct(res.ceiling_one_object[attr]))
    for attr in ("binding", "colour", "shape", "motion", "setting"):
        t.add_row(f"two objects: {attr}", _pct(res.two_object[attr]), _pct(res.ceiling_two_object[attr]))
    tm = res.temporal
    t.add_row("flicker (mean colour change / frame)", f"{tm['flicker_model']:.2f}", f"{tm['flicker_renderer']:.2f}")
    t.add_row("warping error (0-255)", f"{tm['warp_error_model']:.2f}", f"{tm['warp_error_renderer']:.2f}")
    t.add_row("seconds per clip", f"{res.speed['seconds_per_clip']:.2f}", "")
    t.add_row("video s / wall s", f"{res.speed['video_seconds_per_wall_second']:.2f}", "")
    t.caption = f"{res.n_one} one-object and {res.n_two} two-object captions"
    return t
