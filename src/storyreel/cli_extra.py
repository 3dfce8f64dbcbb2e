"""The provenance and preview commands: `storyreel verify`, `storyreel animatic`, `storyreel c2pa-test-credentials`.

`register(app)` adds them to the command-line app (cli.py calls it with its
own `app`, which also works when cli.py runs as `python -m storyreel.cli`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .errors import StoryreelError


def verify_lines(rep: dict) -> list[tuple[str, str]]:
    """(label, text) rows of a verify report, for people."""
    rows = [("file", f"{rep['file']}  {rep['width']}x{rep['height']}, {rep['frames']} frames")]
    wm = rep["watermark"]
    where = f"{wm['frames']} frames" + (f" at {wm['size'][0]}x{wm['size'][1]}" if wm["size"] else "")
    if wm["detected"]:
        misread = f"; {wm['bits_misread']} of 64 bits misread as {wm['payload']}" if wm.get("bits_misread") else ""
        rows.append(("watermark", f"[green]detected[/]: storyrl v{bytes.fromhex(wm['expected_hex'])[-1]} (bit accuracy "
                                  f"{wm['bit_accuracy']:.1%}, {where}; threshold {wm['threshold']:.0%}{misread})"))
    else:
        rows.append(("watermark", f"not detected (best bit accuracy {wm['bit_accuracy']:.1%} over {where}; "
                                  f"storyreel's is >= {wm['threshold']:.0%})"))
    tags = rep["tags"]
    rows.append(("tags", "; ".join(f"{k}: {v}" for k, v in tags.items()) or "none"))
    man = rep["manifest"]
    if man:
        match = "the video's hash matches" if man["video_matches"] else "[yellow]the video's hash differs[/] (re-encoded or edited since)"
        rows.append(("manifest", f"{man['file']}: {man['generator']}, models {', '.join(man['models'])}, {man['shots']} shots, "
                                 f"storyboard {man['storyboard_hash']}, {man['created']}; {match}"))
    else:
        rows.append(("manifest", "none beside the video"))
    c = rep["c2pa"]
    if c:
        ai = "declares AI-generated (trainedAlgorithmicMedia)" if c["ai_generated"] else "no AI-generation declaration"
        trust = " ; signer untrusted (pass --trust CA.pem to trust its CA)" if "signingCredential.untrusted" in c["status"] else ""
        rows.append(("c2pa", f"{c['validation_state']}: {c['claim_generator']}, signed by \"{c['signer']}\" "
                             f"({c['issuer']}); {ai}{trust}"))
    else:
        rows.append(("c2pa", "no C2PA manifest"))
    rows.append(("verdict", "[bold green]made by storyreel[/]" if rep["storyreel"] else "no storyreel provenance found"))
    return rows


def verify(
    video: Path = typer.Argument(..., help="An MP4 to check."),
    manifest: Optional[Path] = typer.Option(None, help="The sidecar manifest (default: VIDEO.manifest.json beside it)."),
    trust: Optional[Path] = typer.Option(None, help="PEM file of CA certificates to trust for the C2PA signature."),
    frames: int = typer.Option(16, help="Frames sampled for the watermark."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Check a video for storyreel's watermark, manifest and C2PA credentials (exit 0 found, 1 not found)."""
    from .cli import _fail, out

    try:
        from .provenance.verify import verify as run_verify

        rep = run_verify(video, manifest=manifest, trust=trust, max_frames=frames)
    except StoryreelError as e:
        _fail(e)
    if as_json:
        out.print_json(json.dumps(rep))
    else:
        for label, text in verify_lines(rep):
            out.print(f"[bold]{label:<10}[/] {text}", highlight=False, soft_wrap=True)
    raise typer.Exit(0 if rep["storyreel"] else 1)


def animatic(
    storyboard: Path = typer.Argument(..., help="The storyboard YAML."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Output MP4 (default STORYBOARD.animatic.mp4 here)."),
    size: Optional[str] = typer.Option(None, help="WxH of the preview (default: the output's aspect, 640 wide)."),
    pictures: bool = typer.Option(True, help="Draw what the procedural world makes of each prompt behind its card."),
    model: Optional[str] = typer.Option(None, help="Override the storyboard's model (only shown on the cards)."),
    sandbox: bool = typer.Option(False, help="Refuse absolute paths and .. in the storyboard."),
) -> None:
    """A fast timing preview: one title card per shot, held for its length, with the song. Nothing is generated."""
    from .cli import _fail, _parse_size, console

    try:
        from .animatic import render_animatic

        path = output or Path(storyboard.stem + ".animatic.mp4")
        rep = render_animatic(storyboard, path, size=_parse_size(size) if size else None, pictures=pictures,
                              model=model, sandbox=sandbox)
        console.print(f"wrote {rep.output} ({rep.shots} shots, {rep.duration:.1f}s, {rep.size[0]}x{rep.size[1]})")
    except StoryreelError as e:
        _fail(e)


def c2pa_test_credentials(folder: Path = typer.Argument(..., help="Where to write the test CA, certificate and key.")) -> None:
    """Write a throw-away test CA and C2PA signing certificate + key (for trying --c2pa-cert; never for publishing)."""
    from .cli import _fail, console

    try:
        from .provenance.c2pa_sign import make_test_credentials

        creds, ca = make_test_credentials(folder)
    except ImportError:
        _fail(StoryreelError("making test credentials needs the `cryptography` package (pip install cryptography)"))
    console.print(f"wrote {creds.cert}, {creds.key} and {ca}\n"
                  f"render with: --c2pa-cert {creds.cert} --c2pa-key {creds.key}; verify with: --trust {ca}")


def register(app: typer.Typer) -> None:
    """Add verify, animatic and c2pa-test-credentials to `app`."""
    app.command()(verify)
    app.command()(animatic)
    app.command("c2pa-test-credentials")(c2pa_test_credentials)
