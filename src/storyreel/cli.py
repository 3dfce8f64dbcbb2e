"""The storyreel command line: one small function per command over the library's pure helpers."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from .errors import StoryreelError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Song + storyboard -> AI music video, cut on the beat.")
train_app = typer.Typer(no_args_is_help=True, help="Train a built-in model.")
app.add_typer(train_app, name="train")
console = Console(stderr=True)
out = Console()


def _fail(e: StoryreelError) -> None:
    console.print(f"[bold red]error:[/] {e.format()}", highlight=False, soft_wrap=True)
    raise typer.Exit(e.exit_code)


def _parse_size(size: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise StoryreelError(f"size {size!r} is not WIDTHxHEIGHT, e.g. 80x48", field="--size") from None
    return w, h


def _load_frames(path: Path) -> "np.ndarray":  # noqa: F821
    """A clip (video file) or a still image as (T, H, W, 3) uint8."""
    import numpy as np

    from .video_io import read_frames

    if not path.exists():
        raise StoryreelError("file not found", file=str(path))
    if path.suffix.lower() in {".png", ".jpg", ".jpeg", ".webp", ".bmp"}:
        from PIL import Image

        try:
            return np.asarray(Image.open(path).convert("RGB"))[None]
        except OSError as e:
            raise StoryreelError(f"cannot read image: {e}", file=str(path)) from None
    return read_frames(path)


@app.command()
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
    scale: int = typer.Option(1, help="Upscale factor for the written file (nearest-neighbour free; bicubic)."),
) -> None:
    """Make one clip from text: the text-to-video primitive."""
    try:
        from .generate_cmd import run_generate

        path = run_generate(
            prompt, output, seconds=seconds, size=_parse_size(size) if size else None, seed=seed, model=model,
            steps=steps, guidance=guidance, image=_load_frames(image)[0] if image else None,
            extend=_load_frames(extend) if extend else None,
            connect=(_load_frames(connect[0]), _load_frames(connect[1])) if connect else None,
            loop=loop, restyle=_load_frames(restyle) if restyle else None, strength=strength, scale=scale,
        )
        console.print(f"wrote {path}")
    except StoryreelError as e:
        _fail(e)


@train_app.command("builtin")
def train_builtin(
    stage: str = typer.Option("dit", help="ae (the frame autoencoder) or dit (the transformer)."),
    steps: Optional[int] = typer.Option(None, help="Total steps for the stage (resumes count towards it)."),
    run_dir: Optional[Path] = typer.Option(None, help="Checkpoints and logs (default ~/.cache/storyreel/train)."),
    export: bool = typer.Option(False, "--export", help="Write the package weights from the run's checkpoints and stop."),
) -> None:
    """Train the built-in model from scratch on the procedural world (resumes from checkpoints)."""
    from .models.builtin import train

    rd = run_dir or train.default_run_dir()
    if export:
        console.print(f"exported weights to {train.export(rd)}")
        return
    train.main(stage, steps=steps, run_dir=rd)


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
