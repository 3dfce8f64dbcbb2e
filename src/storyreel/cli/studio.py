"""`storyreel studio [STORYBOARD.yaml]`: the local web app (storyreel.studio) on 127.0.0.1, with a token in its URL."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import StoryreelError
from .app import command, console, out


@command()
def studio(
    storyboard: Path = typer.Argument(Path("storyboard.yaml"), help="The storyboard YAML to open."),
    port: int = typer.Option(8765, help="Port to listen on (0: any free port)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on; anything but the loopback serves the network."),
    cache_dir: Optional[Path] = typer.Option(None, help="Take cache (default $STORYREEL_CACHE, else ~/.cache/storyreel/takes)."),
) -> None:
    """See the song, edit the storyboard, preview, generate and re-roll shots, and render, in a browser."""
    try:
        from ..studio.server import make_server  # deferred: the studio extra (FastAPI, uvicorn, ruamel.yaml)
    except ImportError as e:
        raise StoryreelError(f"the studio needs its extra ({e.name} is missing): pip install 'storyreel[studio]'") \
            from None
    if not storyboard.is_file():
        raise StoryreelError("no such storyboard file", file=str(storyboard))
    served = make_server(storyboard, host=host, port=port, cache_dir=cache_dir)
    if served.warning:
        console.print(f"[bold yellow]warning:[/] {served.warning}", highlight=False, soft_wrap=True)
    out.print(f"storyreel studio: {served.url}", highlight=False, soft_wrap=True)
    console.print("open that URL in a browser (it holds this start's token); Ctrl-C stops the studio", style="dim")
    try:
        served.server.run()
    finally:
        served.studio.close()
