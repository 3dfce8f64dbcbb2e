"""The command-line app, its two consoles, and the one error boundary every command runs inside.

`command()` registers a function as a command and wraps it: a StoryreelError
becomes one red line on stderr and its exit code (errors.ExitCode), and a
StoryreelWarning (a deprecated storyboard key) one yellow line. Commands are
small functions over the library's pure helpers; they import those helpers
inside the function, so `storyreel --help` and a typo answer in a fraction of
a second instead of paying for torch, librosa and OpenCV first.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable

import typer
from rich.console import Console

from ..errors import ExitCode, StoryreelError, StoryreelWarning

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Song + storyboard -> AI music video, cut on the beat.")
train_app = typer.Typer(no_args_is_help=True, help="Train a built-in model.")
cache_app = typer.Typer(no_args_is_help=True, help="Show and trim the take cache (ls, du, gc).")
app.add_typer(train_app, name="train")
app.add_typer(cache_app, name="cache")
console = Console(stderr=True)  # messages, progress, errors
out = Console()  # the command's result (tables, JSON)


def fail(e: StoryreelError) -> None:
    """Print the error as one line and leave with its exit code."""
    console.print(f"[bold red]error:[/] {e.format()}", highlight=False, soft_wrap=True)
    raise typer.Exit(int(e.exit_code))


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    if issubclass(category, StoryreelWarning):
        console.print(f"[bold yellow]warning:[/] {message}", highlight=False, soft_wrap=True)
    else:
        console.print(f"warning: {category.__name__}: {message}", highlight=False, soft_wrap=True, style="dim")


def command(group: typer.Typer = app, name: str | None = None) -> Callable[[Callable], Callable]:
    """Register `fn` as a command of `group`, inside the error boundary."""

    def register(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def run(*args, **kwargs):
            with warnings.catch_warnings():
                warnings.simplefilter("always", StoryreelWarning)
                warnings.showwarning = _show_warning
                try:
                    return fn(*args, **kwargs)
                except StoryreelError as e:
                    fail(e)

        group.command(name)(run)
        return fn

    return register


def exit_with(code: ExitCode) -> None:
    raise typer.Exit(int(code))
