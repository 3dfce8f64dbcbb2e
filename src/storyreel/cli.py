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


def _parse_pick(values: list[str]) -> dict[int, int]:
    """'12=3' (shot 12, take 3, both numbered from 1 as in the plan table) -> {11: 2}."""
    picks = {}
    for v in values:
        try:
            shot, take = (int(x) for x in v.split("="))
        except ValueError:
            raise StoryreelError(f"{v!r} is not SHOT=TAKE, e.g. 12=3", field="--pick") from None
        if shot < 1 or take < 1:
            raise StoryreelError(f"{v!r}: shots and takes are numbered from 1", field="--pick")
        picks[shot - 1] = take - 1
    return picks


def _parse_only(value: str | None) -> set[int] | None:
    """'12,14' (numbered from 1 as in the plan table) -> {11, 13}."""
    if not value:
        return None
    try:
        shots = {int(x) for x in value.split(",") if x.strip()}
    except ValueError:
        raise StoryreelError(f"{value!r} is not a list of shot numbers, e.g. 12,14", field="--only") from None
    if any(n < 1 for n in shots):
        raise StoryreelError(f"{value!r}: shots are numbered from 1", field="--only")
    return {n - 1 for n in shots}


@app.command()
def render(
    storyboard: Path = typer.Argument(..., help="The storyboard YAML."),
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
    grade: Optional[bool] = typer.Option(None, "--grade/--no-grade", help="Colour continuity: match each shot's opening colours to the previous shot's last frame (default: the storyboard's `grade:`)."),
) -> None:
    """Render a storyboard into a music video."""
    try:
        from .pipeline import render as run_render

        rep = run_render(
            storyboard, output, model=model, takes=takes, pick=_parse_pick(pick), only=_parse_only(only),
            sandbox=sandbox, cache_dir=cache_dir, crf=crf, export_shots=export_shots, policy=policy,
            c2pa_cert=c2pa_cert, c2pa_key=c2pa_key,
            model_options={"dtype": dtype, "offload": offload, "vae_tiling": vae_tiling, "cache": block_cache},
            executor=executor, ray_address=ray_address, grade=grade,
        )
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in rep.stages.items())
        console.print(
            f"wrote {rep.output} ({rep.shots} shots, {rep.duration:.1f}s; {rep.generated} takes generated, "
            f"{rep.cached} from cache; {stages}; real-time factor {rep.realtime_factor:.2f})"
        )
    except StoryreelError as e:
        _fail(e)


@app.command()
def plan(
    storyboard: Path = typer.Argument(..., help="The storyboard YAML."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
    model: Optional[str] = typer.Option(None, help="Override the storyboard's model."),
    sandbox: bool = typer.Option(False, help="Refuse absolute paths and .. in the storyboard."),
) -> None:
    """Show the shot plan (on the song's bars and sections) without generating anything."""
    try:
        from .pipeline import load_and_plan
        from .plan import format_plan_table, plan_to_json

        _, _, p = load_and_plan(storyboard, sandbox=sandbox, model=model)
        if as_json:
            out.print(plan_to_json(p), highlight=False, soft_wrap=True)
        else:
            out.print(format_plan_table(p))
    except StoryreelError as e:
        _fail(e)


@app.command()
def takes(plan_json: Path = typer.Argument(..., help="OUT.plan.json written by render.")) -> None:
    """List every shot's takes with their scores; the kept one is marked."""
    try:
        from .takes_report import read_plan_record, takes_table

        out.print(takes_table(read_plan_record(plan_json)))
    except StoryreelError as e:
        _fail(e)


@app.command()
def analyze(
    song: str = typer.Argument(..., help="Audio file (wav, flac, mp3, ogg, m4a), or 'demo'."),
    as_json: bool = typer.Option(False, "--json", help="Print the analysis as JSON."),
    plot: Optional[Path] = typer.Option(None, help="Draw waveform, energy, beats, downbeats and sections to a PNG."),
    beats_per_bar: Optional[int] = typer.Option(None, help="Force the meter (3 for 3/4 or 6/8; default: detect)."),
    fps: float = typer.Option(24.0, help="Rate of the energy and onset curves."),
) -> None:
    """Tempo, beats, downbeats, sections and energy of a song."""
    try:
        from . import music as music_mod
        from .music_report import summary_table
        from .pipeline import analyze_song, demo_song_path

        path = demo_song_path() if song == "demo" else Path(song)
        mm = analyze_song(path, fps, beats_per_bar=beats_per_bar)
        if plot:
            music_mod.plot(mm, path, plot)
        if as_json:
            out.print_json(json.dumps(mm.to_dict()))
        else:
            out.print(summary_table(mm))
        if plot:
            console.print(f"wrote {plot}")
    except StoryreelError as e:
        _fail(e)


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
    scale: Optional[int] = typer.Option(None, help="Upscale factor for the written file (bicubic); default: to at least 360 px tall."),
) -> None:
    """Make one clip from text: the text-to-video primitive."""
    try:
        from .generate_cmd import run_generate
        from .policy import check_prompt

        check_prompt(prompt)  # the prompt policy, before any generation
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
    stage: str = typer.Option("dit", help="ae (the frame autoencoder), dit (the transformer) or probe (the evaluation's pixel probe)."),
    steps: Optional[int] = typer.Option(None, help="Total steps for the stage (resumes count towards it)."),
    run_dir: Optional[Path] = typer.Option(None, help="Checkpoints and logs (default ~/.cache/storyreel/train)."),
    export: bool = typer.Option(False, "--export", help="Write the package weights from the run's checkpoints and stop."),
    resume: bool = typer.Option(True, "--resume/--fresh", help="Continue from the run's checkpoint (default), or refuse to if one exists."),
) -> None:
    """Train the built-in model from scratch on the procedural world (resumes from checkpoints)."""
    from .models.builtin import train

    rd = run_dir or train.default_run_dir()
    ckpt = rd / f"{stage}.pt"
    if not resume and ckpt.exists():
        _fail(StoryreelError(f"a checkpoint exists at {ckpt}: move it away or pass another --run-dir to start fresh", field="--fresh"))
    if export:
        console.print(f"exported weights to {train.export(rd)}")
        return
    train.main(stage, steps=steps, run_dir=rd)


@app.command("eval")
def eval_cmd(
    model: str = typer.Argument("builtin", help="Backend to evaluate (the built-in model)."),
    as_json: bool = typer.Option(False, "--json", help="Print the numbers as JSON."),
    n_one: int = typer.Option(48, help="One-object held-out captions."),
    n_two: int = typer.Option(24, help="Two-object held-out captions."),
    steps: Optional[int] = typer.Option(None, help="Sampler steps."),
) -> None:
    """Prompt adherence (per attribute, binding), temporal quality and speed on held-out captions."""
    try:
        from .eval.evaluate import evaluate
        from .eval.report import eval_table
        from .models.registry import get_model
        from .progress import progress_bar

        backend = get_model(model)
        with progress_bar(transient=True) as bar:
            task = bar.add_task("evaluating", total=n_one + n_two)
            res = evaluate(backend, n_one=n_one, n_two=n_two, steps=steps, progress=lambda i, n: bar.update(task, completed=i))
        if as_json:
            out.print_json(json.dumps(res.to_dict()))
        else:
            out.print(eval_table(res))
    except StoryreelError as e:
        _fail(e)


from .cli_extra import register as _register_extra  # noqa: E402

_register_extra(app)  # verify, animatic, c2pa-test-credentials

from .cli_cache import register as _register_cache  # noqa: E402

_register_cache(app)  # cache ls|du|gc


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    main()

