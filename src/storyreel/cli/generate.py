"""`storyreel generate "PROMPT" -o clip.mp4`: one clip, with the conditioning modes as flags (storyreel.generate)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import command, console
from .args import load_frames, parse_size


@command()
def generate(
    prompt: str = typer.Argument(..., help="What to show, e.g. 'a red star moves right across a night sky'."),
    output: Path = typer.Option(..., "-o", "--output", help="Output MP4."),
    seconds: Optional[float] = typer.Option(None, help="Length; longer than one generation is made by extension."),
    size: Optional[str] = typer.Option(None, help="WxH of the generation (default: the model's native size)."),
    seed: int = typer.Option(0, help="Random seed; same seed, same clip."),
    model: str = typer.Option("builtin", help="Backend name."),
    steps: Optional[int] = typer.Option(None, help="Sampler steps."),
    guidance: Optional[float] = typer.Option(None, help="Classifier-free guidance scale."),
    image: Optional[Path] = typer.Option(None, help="Image-to-video: start from this image."),
    extend: Optional[Path] = typer.Option(None, help="Continue this clip forward (its last frames condition the new one)."),
    connect: Optional[tuple[Path, Path]] = typer.Option(None, help="Fill between the last frame of A and the first of B."),
    loop: bool = typer.Option(False, help="Make a clip that loops seamlessly."),
    restyle: Optional[Path] = typer.Option(None, help="Video-to-video: restyle this clip (SDEdit)."),
    strength: float = typer.Option(0.6, help="With --restyle: how much to change, 0..1."),
    scale: Optional[int] = typer.Option(None, help="Bicubic upscale factor after the super-resolution stage (1: the stage's own size, 192x320 for the built-in model); default: to at least 360 px tall."),
    sr: bool = typer.Option(True, "--sr/--no-sr", help="The model's super-resolution stage (built-in model: 4x the native 48x80); --no-sr writes the native size."),
) -> None:
    """Make one clip from text: the text-to-video primitive."""
    from ..generate import run_generate  # deferred: see cli.app
    from ..models.registry import get_model
    from ..render.policy import check_prompt
    from .progress import Bars

    check_prompt(prompt)  # the prompt policy, before any generation
    backend = get_model(model)
    backend.check_available()
    read_as = backend.reading(prompt)
    if read_as is not None:  # a model with its own planner: show what it understood before the wait
        console.print(f"{model} reads this as: [bold]{read_as}[/bold]")
    with Bars() as bars:
        path = run_generate(
            prompt, output, seconds=seconds, size=parse_size(size) if size else None, seed=seed, model=model,
            steps=steps, guidance=guidance, image=load_frames(image)[0] if image else None,
            extend=load_frames(extend) if extend else None,
            connect=(load_frames(connect[0]), load_frames(connect[1])) if connect else None,
            loop=loop, restyle=load_frames(restyle) if restyle else None, strength=strength, scale=scale,
            sr=sr, progress=bars,
        )
    console.print(f"wrote {path}")
