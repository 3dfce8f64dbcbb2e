"""Starting a studio: a random token per start, the loopback address by default, the URL to open.

Like Jupyter, the printed URL carries the token; the page then holds it in a
cookie. `--host` other than the loopback serves the network: the studio says
so, since anyone who gets the URL can edit the storyboard and spend the GPU.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from .app import create_app
from .session import Studio

LOOPBACK = "127.0.0.1"


def new_token() -> str:
    """A fresh random token (256 bits) for one start of the studio."""
    return secrets.token_urlsafe(32)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def free_port(host: str = LOOPBACK) -> int:
    """A port nothing listens on now (for --port 0 and tests)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class Served:
    """A configured studio server (uvicorn), its URL with the token, and the warning to show, if any."""

    server: object  # uvicorn.Server
    url: str
    studio: Studio
    warning: str | None = None


def make_server(storyboard: str | Path, *, host: str = LOOPBACK, port: int = 8765, token: str | None = None,
                cache_dir: Path | None = None) -> Served:
    """The studio for `storyboard` as a uvicorn server (not started: call `.server.run()`)."""
    import uvicorn  # deferred: the studio extra

    token = token or new_token()
    studio = Studio(storyboard, cache_dir)
    port = port or free_port(host if is_loopback(host) else "0.0.0.0")
    config = uvicorn.Config(create_app(studio, token), host=host, port=port, log_level="warning",
                            access_log=False, timeout_graceful_shutdown=1)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    warning = None if is_loopback(host) else (
        f"listening on {host}, not only this machine: anyone who can reach port {port} and has the URL's token "
        "can edit the storyboard and start renders")
    return Served(uvicorn.Server(config), f"http://{shown}:{port}/?token={token}", studio, warning)
