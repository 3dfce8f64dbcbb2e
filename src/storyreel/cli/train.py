"""`storyreel train builtin --stage ae|dit|probe`: train the built-in model, or the evaluation's pixel probe."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import StoryreelError
from .app import command, console, train_app

STAGES = ("ae", "dit", "probe")


@command(train_app, "builtin")
def train_builtin(
    stage: str = typer.Option("dit", help="ae (the frame autoencoder), dit (the transformer) or probe (the evaluation's pixel probe)."),
    steps: Optional[int] = typer.Option(None, help="Total steps for the stage (resumes count towards it)."),
    run_dir: Optional[Path] = typer.Option(None, help="Checkpoints and logs (default ~/.cache/storyreel/train)."),
    export: bool = typer.Option(False, "--export", help="Write the package weights from the run's checkpoints and stop."),
    resume: bool = typer.Option(True, "--resume/--fresh", help="Continue from the run's checkpoint (default), or refuse to if one exists."),
) -> None:
    """Train the built-in model from scratch on the procedural world (resumes from checkpoints)."""
    from ..models.builtin import train  # deferred: see cli.app

    if stage not in STAGES:
        raise StoryreelError(f"unknown stage {stage!r}: use ae, dit or probe", field="--stage")
    rd = run_dir or train.default_run_dir()
    ckpt = rd / f"{stage}.pt"
    if not resume and ckpt.exists():
        raise StoryreelError(f"a checkpoint exists at {ckpt}: move it away or pass another --run-dir to start fresh",
                             field="--fresh")
    if export:
        console.print(f"exported weights to {train.export(rd)}")
        return
    if stage == "probe":  # the evaluation's pixel probe: trained on the renderer alone, written into the package
        from ..eval.probe import PROBE_PATH, save_probe, train_probe

        save_probe(train_probe(steps or 2000))
        console.print(f"wrote {PROBE_PATH}")
        return
    train.main(stage, steps=steps, run_dir=rd)
