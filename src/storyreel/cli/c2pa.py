"""`storyreel c2pa-test-credentials DIR`: a throw-away test CA and signing certificate, to try C2PA signing."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import StoryreelError
from .app import command, console


@command(name="c2pa-test-credentials")
def c2pa_test_credentials(folder: Path = typer.Argument(..., help="Where to write the test CA, certificate and key.")) -> None:
    """Write a throw-away test CA and C2PA signing certificate + key (for trying --c2pa-cert; never for publishing)."""
    from ..provenance.c2pa_sign import make_test_credentials  # deferred: see cli.app

    try:
        creds, ca = make_test_credentials(folder)
    except ImportError:
        raise StoryreelError("making test credentials needs the `cryptography` package: "
                             "pip install 'storyreel[c2pa]'") from None
    console.print(f"wrote {creds.cert}, {creds.key} and {ca}\n"
                  f"render with: --c2pa-cert {creds.cert} --c2pa-key {creds.key}; verify with: --trust {ca}")
