"""`storyreel plan STORYBOARD.yaml [--json]`: the shot table (or the plan JSON); nothing is generated."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .app import command, out


def _clock(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:05.2f}"


def plan_table(plan, *, width: int = 60) -> Table:
    """One row per shot (a plan.ShotPlan), prompt truncated to `width` characters."""
    table = Table(title=f"{plan.title}: {len(plan.shots)} shots, {_clock(plan.duration)}, "
                        f"{plan.width}x{plan.height} @ {plan.fps} fps, model {plan.model}")
    for name, justify in (("#", "right"), ("start", "right"), ("end", "right"), ("bars", "right"),
                          ("section", "left"), ("camera", "left"), ("transition", "left"), ("prompt", "left")):
        table.add_column(name, justify=justify, no_wrap=name != "prompt")
    for shot, into in zip(plan.shots, plan.cut.overlaps):
        camera = shot.camera.move + (" →" if shot.camera.continuous else "")
        transition = into.kind + (f" {into.frames}f" if into.frames else "")
        prompt = shot.prompt if len(shot.prompt) <= width else shot.prompt[: width - 1] + "…"
        table.add_row(str(shot.index + 1), _clock(shot.start), _clock(shot.end), f"{shot.bars:g}",
                      shot.section, camera, transition, prompt)
    return table


def _print_readings(plan) -> None:
    """One line per shot: what the plan's model will draw for its prompt, or a note that it reads them as written."""
    from ..models.registry import prompt_reader  # deferred: see cli.app

    read = prompt_reader(plan.model)
    if read is None:
        out.print(f"{plan.model} reads each prompt as written (it has no planner of its own)", highlight=False)
        return
    for shot in plan.shots:
        out.print(f"{shot.index + 1:>3}  {plan.model} reads: {read(shot.prompt)}", highlight=False, soft_wrap=True)


@command()
def plan(
    storyboard: Path = typer.Argument(..., help="The storyboard YAML."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
    model: Optional[str] = typer.Option(None, help="Override the storyboard's model (the plan is made for what it can do)."),
    sandbox: bool = typer.Option(False, help="Refuse absolute paths and .. in the storyboard."),
    prices: Optional[Path] = typer.Option(None, help="Price table of hosted models (as for render)."),
    reads: bool = typer.Option(False, "--reads", help="Also list how the model reads each shot's prompt (a model "
                               "with its own planner, as the built-in one: what it will draw)."),
) -> None:
    """Show the shot plan (on the song's bars and sections) without generating anything."""
    from ..pipeline import RenderOptions, estimate_plan, load_and_plan  # deferred: see cli.app
    from ..plan import plan_to_json
    from .progress import Bars

    with Bars() as bars:
        options = RenderOptions(model=model, sandbox=sandbox, prices=prices)
        _, _, p = load_and_plan(storyboard, options, bars)
    if as_json:
        out.print(plan_to_json(p), highlight=False, soft_wrap=True)
    else:
        out.print(plan_table(p))
        if reads:
            _print_readings(p)
        out.print(f"estimate: {estimate_plan(p, options).line()}", highlight=False, soft_wrap=True)
