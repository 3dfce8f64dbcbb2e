"""`storyreel animatic STORYBOARD.yaml`: a fast timing preview, planned exactly as `render` plans (pipeline.animatic)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import command, console
from .args import parse_size


@command()
def animatic(
    storyboard: Path = typer.Argument(..., help="The storyboard YAML."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Output MP4 (default STORYBOARD.animatic.mp4 here); its plan goes beside it as .plan.json."),
    size: Optional[str] = typer.Option(None, help="WxH of the preview (default: the output's aspect, 640 wide)."),
    pictures: bool = typer.Option(True, help="Draw what the procedural world makes of each prompt behind its card."),
    model: Optional[str] = typer.Option(None, help="Override the storyboard's model (the plan is made for what it can do)."),
    sandbox: bool = typer.Option(False, help="Refuse absolute paths and .. in the storyboard."),
) -> None:
    """A fast timing preview: one title card per shot, held for its length, with the song. Nothing is generated."""
    from ..pipeline import RenderOptions  # deferred: see cli.app
    from ..pipeline import animatic as run_animatic
    from .progress import Bars

    path = output or Path(storyboard.stem + ".animatic.mp4")
    with Bars() as bars:
        rep = run_animatic(storyboard, path, size=parse_size(size) if size else None, pictures=pictures,
                           options=RenderOptions(model=model, sandbox=sandbox), progress=bars)
    console.print(f"wrote {rep.output} ({rep.shots} shots, {rep.duration:.1f}s, {rep.size[0]}x{rep.size[1]}) "
                  f"and {rep.plan.name}")
