"""The storyreel command line: one module per command, each a small function over a pure helper.

cli.app holds the Typer app and the one error boundary; importing this package
registers every command on it. Entry point: `storyreel = storyreel.cli:app`.
"""

# Imported in the order `storyreel --help` lists them; importing a module registers its command.
from . import render, plan, takes, analyze, generate, train, eval, verify, animatic, studio, c2pa, cache  # noqa: F401, I001
from .app import app


def main() -> None:  # pragma: no cover - console entry
    app()


__all__ = ["app", "main"]
