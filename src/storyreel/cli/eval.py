"""`storyreel eval builtin [--json]`: prompt adherence and temporal quality on held-out captions."""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.table import Table

from .app import command, out


def _pct(v: float) -> str:
    return "-" if v != v else f"{100 * v:.0f}%"


def eval_table(res) -> Table:
    """Model vs renderer ceiling (an eval.evaluate.EvalResult), per attribute; then temporal metrics and speed."""
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
    if tm.get("renderer_style") != "classic":
        t.add_row("  renderer in the classic world: flicker / warping", "",
                  f"{tm['flicker_renderer_classic']:.2f} / {tm['warp_error_renderer_classic']:.2f}")
    t.add_row("seconds per clip", f"{res.speed['seconds_per_clip']:.2f}", "")
    t.add_row("video s / wall s", f"{res.speed['video_seconds_per_wall_second']:.2f}", "")
    kind = "words never in training" if res.words == "new" else "training synonyms"
    t.caption = (f"{res.n_one} one-object and {res.n_two} two-object captions ({kind}, new templates); "
                 f"renderer in the {tm.get('renderer_style', 'classic')} world the model draws")
    return t


@command(name="eval")
def eval_cmd(
    model: str = typer.Argument("builtin", help="Backend to evaluate (the built-in model)."),
    as_json: bool = typer.Option(False, "--json", help="Print the numbers as JSON."),
    n_one: int = typer.Option(48, help="One-object held-out captions."),
    n_two: int = typer.Option(24, help="Two-object held-out captions."),
    steps: Optional[int] = typer.Option(None, help="Sampler steps."),
    words: str = typer.Option("new", help="Caption words: 'new' (never in training) or 'training' (its synonyms)."),
) -> None:
    """Prompt adherence (per attribute, binding), temporal quality and speed on held-out captions."""
    from ..eval.evaluate import evaluate  # deferred: see cli.app
    from ..models.registry import get_model
    from ..progress import report
    from .progress import Bars

    if words not in ("new", "training"):
        raise typer.BadParameter(f"--words must be 'new' or 'training', not {words!r}")
    backend = get_model(model)
    with Bars() as bars:
        res = evaluate(backend, n_one=n_one, n_two=n_two, steps=steps, words=words,
                       progress=lambda i, n: report(bars, "evaluation", "evaluating", i, n))
    if as_json:
        out.print_json(json.dumps(res.to_dict()))
    else:
        out.print(eval_table(res))
