"""`storyreel render STORYBOARD.yaml|PLAN.json -o OUT.mp4`: the whole job (pipeline.render)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import command, console
from .args import parse_only, parse_pick


@command()
def render(
    storyboard: Path = typer.Argument(..., help="The storyboard YAML, or a plan JSON (from `plan --json` or a render) to render as it is."),
    output: Path = typer.Option(..., "-o", "--output", help="Output MP4; OUT.plan.json, OUT.otio and OUT.contact.png go beside it."),
    model: Optional[str] = typer.Option(None, help="Override the storyboard's model."),
    takes: Optional[int] = typer.Option(None, help="Versions generated per shot; the best-scoring one is kept."),
    pick: list[str] = typer.Option([], help="Force a take: SHOT=TAKE (repeatable)."),
    only: Optional[str] = typer.Option(None, help="Regenerate just these shots, e.g. 12,14."),
    sandbox: bool = typer.Option(False, help="Refuse absolute paths and .. in the storyboard (for storyboards from elsewhere)."),
    cache_dir: Optional[Path] = typer.Option(None, help="Take cache (default ~/.cache/storyreel/takes)."),
    crf: int = typer.Option(20, help="H.264 quality (lower is better)."),
    export_shots: bool = typer.Option(False, "--export-shots", help="Also write each shot as OUT.shots/shot_NN.mp4; OUT.otio then uses them."),
    policy: Optional[Path] = typer.Option(None, help="Prompt policy file of refused subjects (default: $STORYREEL_POLICY, else the built-in list)."),
    c2pa_cert: Optional[Path] = typer.Option(None, help="Sign the MP4 with C2PA: certificate chain PEM (or $STORYREEL_C2PA_CERT)."),
    c2pa_key: Optional[Path] = typer.Option(None, help="The certificate's private key PEM (or $STORYREEL_C2PA_KEY)."),
    dtype: Optional[str] = typer.Option(None, help="diffusers models: auto, bf16, fp16 or fp32."),
    offload: Optional[str] = typer.Option(None, help="diffusers models on a GPU: none, model, group or sequential."),
    vae_tiling: Optional[bool] = typer.Option(None, "--vae-tiling/--no-vae-tiling", help="diffusers models: decode in tiles."),
    block_cache: Optional[str] = typer.Option(None, help="diffusers models: none or fbc[:THRESHOLD] (FirstBlockCache)."),
    executor: str = typer.Option("local", help="Where shots are generated: local (a pool sized to this machine) or ray (Ray tasks on a cluster)."),
    ray_address: Optional[str] = typer.Option(None, help="With --executor ray: the cluster to join (auto, HOST:6379, ray://HOST:10001; default $RAY_ADDRESS, else a local one)."),
    prices: Optional[Path] = typer.Option(None, help="Price table of hosted models, TOML of NAME = dollars per second (default $STORYREEL_PRICES, else storyreel's)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before a render estimated above --confirm-above."),
    confirm_above: float = typer.Option(1.0, help="Ask for confirmation when the estimated cost exceeds this many dollars."),
    sr: bool = typer.Option(True, "--sr/--no-sr", help="The model's super-resolution stage over its native frames before the edit (built-in model: 4x); --no-sr edits the native frames."),
    grade: Optional[bool] = typer.Option(None, "--grade/--no-grade", help="Colour continuity: match each shot's opening colours to the previous shot's last frame (default: the storyboard's `grade:`)."),
) -> None:
    """Render a storyboard (or an edited plan) into a music video."""
    from ..pipeline import RenderOptions  # deferred: see cli.app
    from ..pipeline import render as run_render
    from .progress import Bars

    options = RenderOptions(
        model=model, takes=takes, pick=parse_pick(pick), only=parse_only(only), sandbox=sandbox, cache_dir=cache_dir,
        crf=crf, export_shots=export_shots, policy=policy, c2pa_cert=c2pa_cert, c2pa_key=c2pa_key,
        model_options={"dtype": dtype, "offload": offload, "vae_tiling": vae_tiling, "cache": block_cache},
        executor=executor, ray_address=ray_address, grade=grade, prices=prices, sr=sr,
    )

    def confirm(estimate) -> bool:
        """Print the estimate; above the threshold, ask (a closed stdin answers no)."""
        console.print(f"estimate: {estimate.line()}", highlight=False, soft_wrap=True)
        if yes or estimate.cost is None or estimate.cost <= confirm_above:
            return True
        bars.close()  # the question on a clean line; the next stage opens its own bar
        try:
            return typer.confirm(f"spend about ${estimate.cost:.2f}?", default=False, err=True)
        except (typer.Abort, EOFError):
            return False

    with Bars() as bars:
        rep = run_render(storyboard, output, options, progress=bars, confirm=confirm)
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in rep.stages.items())
    console.print(
        f"wrote {rep.output} ({rep.shots} shots, {rep.duration:.1f}s; {rep.generated} takes generated, "
        f"{rep.cached} from cache; {stages}; real-time factor {rep.realtime_factor:.2f})"
    )
