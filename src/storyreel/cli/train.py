"""`storyreel train builtin --stage ae|dit|unet|sr|probe`: train the built-in model, or the evaluation's pixel probe."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import StoryreelError
from .app import command, console, train_app

STAGES = ("ae", "dit", "unet", "sr", "probe")


@command(train_app, "builtin")
def train_builtin(
    stage: str = typer.Option("dit", help="ae (the frame autoencoder), dit (the v1 transformer), unet (the v2 U-Net), sr (the 4x super-resolution stage) or probe (the evaluation's pixel probe)."),
    steps: Optional[int] = typer.Option(None, help="Total steps for the stage (resumes count towards it)."),
    run_dir: Optional[Path] = typer.Option(None, help="Checkpoints and logs (default ~/.cache/storyreel/train)."),
    export: bool = typer.Option(False, "--export", help="Write the package weights from the run's checkpoints and stop."),
    resume: bool = typer.Option(True, "--resume/--fresh", help="Continue from the run's checkpoint (default), or refuse to if one exists."),
    device: str = typer.Option("cpu", help="unet and sr stages: cpu or cuda (the U-Net in bf16 there); the same recipe on both."),
) -> None:
    """Train the built-in model from scratch on the procedural world (resumes from checkpoints)."""
    from ..models.builtin import train  # deferred: see cli.app

    if stage not in STAGES:
        raise StoryreelError(f"unknown stage {stage!r}: use ae, dit, unet, sr or probe", field="--stage")
    rd = run_dir or train.default_run_dir()
    ckpt = rd / f"{stage}.pt"
    if not resume and ckpt.exists():
        raise StoryreelError(f"a checkpoint exists at {ckpt}: move it away or pass another --run-dir to start fresh",
                             field="--fresh")
    if stage == "unet":
        _train_unet(rd, steps, export, device)
        return
    if stage == "sr":
        _train_sr(rd, steps, export, device)
        return
    if export:
        console.print(f"exported weights to {train.export(rd)}")
        return
    if stage == "probe":  # the evaluation's pixel probe: trained on the renderer alone, written into the package
        from ..eval.probe import PROBE_PATH, save_probe, train_probe

        save_probe(train_probe(steps or 2000))
        console.print(f"wrote {PROBE_PATH}")
        return
    train.main(stage, steps=steps, run_dir=rd)


def _train_unet(run_dir: Path, steps: Optional[int], export: bool, device: str) -> None:
    """The v2 U-Net stage: train (resuming) or export its EMA into the package weights."""
    from ..models.builtin import train_unet  # deferred: see cli.app
    from ..models.builtin.weights import WEIGHTS_V2_DIR  # deferred: see cli.app

    if export:
        _check_checkpoint(run_dir / "unet.pt", "unet")
        console.print(f"exported weights to {train_unet.export_unet(run_dir, WEIGHTS_V2_DIR)}")
        return
    _check_device(device)
    cfg = train_unet.UNetTrainConfig(device=device, bf16=device == "cuda")
    if steps is not None:
        cfg.steps = steps
    train_unet.train_unet(cfg, run_dir, log=console.print)


def _train_sr(run_dir: Path, steps: Optional[int], export: bool, device: str) -> None:
    """The super-resolution stage: train (resuming) or write it into the package weights beside the base model."""
    from ..models.builtin import train_sr  # deferred: see cli.app
    from ..models.builtin.weights import WEIGHTS_V2_DIR, save_upsampler  # deferred: see cli.app

    if export:
        _check_checkpoint(run_dir / "sr.pt", "sr")
        net, step = train_sr.load_run(run_dir)
        console.print(f"exported the upsampler to {save_upsampler(net, WEIGHTS_V2_DIR, {'upsampler_steps': step})}")
        return
    _check_device(device)
    cfg = train_sr.SRTrainConfig(device=device)
    if steps is not None:
        cfg.steps = steps
    train_sr.train_upsampler(cfg, run_dir, log=console.print)


def _check_device(device: str) -> None:
    """A one-line error for a device this machine cannot train on."""
    import torch  # deferred: see cli.app

    if device not in ("cpu", "cuda"):
        raise StoryreelError(f"unknown device {device!r}: use cpu or cuda", field="--device")
    if device == "cuda" and not torch.cuda.is_available():
        raise StoryreelError("--device cuda: no CUDA device is available to this torch build", field="--device")


def _check_checkpoint(path: Path, stage: str) -> None:
    """A one-line error for exporting a run that has not trained this stage."""
    if not path.exists():
        raise StoryreelError(f"no {stage} checkpoint at {path}: train it first with --stage {stage}", field="--export")
