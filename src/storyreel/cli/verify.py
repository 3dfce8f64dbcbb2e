"""`storyreel verify VIDEO`: storyreel's watermark, tags, manifest and C2PA credentials (provenance.verify)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ..errors import ExitCode
from .app import command, exit_with, out


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
    elif rep.get("c2pa_unchecked"):
        rows.append(("c2pa", f"not checked: {rep['c2pa_unchecked']}"))
    else:
        rows.append(("c2pa", "no C2PA manifest"))
    rows.append(("verdict", "[bold green]made by storyreel[/]" if rep["storyreel"] else "no storyreel provenance found"))
    return rows


@command()
def verify(
    video: Path = typer.Argument(..., help="An MP4 to check."),
    manifest: Optional[Path] = typer.Option(None, help="The sidecar manifest (default: VIDEO.manifest.json beside it)."),
    trust: Optional[Path] = typer.Option(None, help="PEM file of CA certificates to trust for the C2PA signature."),
    frames: int = typer.Option(16, help="Frames sampled for the watermark."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Check a video for storyreel's watermark, manifest and C2PA credentials (exit 0 found, 1 not found)."""
    from ..provenance.verify import verify as run_verify  # deferred: see cli.app

    rep = run_verify(video, manifest=manifest, trust=trust, max_frames=frames)
    if as_json:
        out.print_json(json.dumps(rep))
    else:
        for label, text in verify_lines(rep):
            out.print(f"[bold]{label:<10}[/] {text}", highlight=False, soft_wrap=True)
    exit_with(ExitCode.OK if rep["storyreel"] else ExitCode.NOT_STORYREEL)
