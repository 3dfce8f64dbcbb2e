"""`storyreel cache ls|du|gc`: show and trim the take cache (render.cache does the work).

Every generated take lives in the content-addressed cache under a key that
hashes everything that made it, so a re-render reuses it and a killed render
resumes from it. These commands list the takes (newest use first), add up
their size, and delete all but the most recently used.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from ..render.cache import collect, list_takes, open_cache, usage
from .app import cache_app, command, out

CACHE_DIR = typer.Option(None, "--cache-dir", help="The take cache (default $STORYREEL_CACHE, else ~/.cache/storyreel/takes).")


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"  # pragma: no cover


def _when(t: float | None) -> str:
    return datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M") if t else "-"


def takes_list_table(root: Path, rows: list[dict]) -> Table:
    """The takes of `list_takes`, one row each."""
    table = Table(title=f"takes in {root}", title_justify="left")
    for col in ("key", "size", "last used", "shot", "take", "seed", "prompt"):
        table.add_column(col, justify="right" if col in {"size", "shot", "take", "seed"} else "left")
    for r in rows:
        shot = str(r["shot"] + 1) if isinstance(r.get("shot"), int) else "-"
        take = str(r["take"] + 1) if isinstance(r.get("take"), int) else "-"
        prompt = "[red]corrupt: regenerated on next use[/]" if r.get("corrupt") else str(r.get("prompt", ""))
        table.add_row(r["key"][:12], human_bytes(r["bytes"]), _when(r["last_used"]), shot, take,
                      str(r.get("seed", "-")), prompt)
    return table


@command(cache_app, "ls")
def ls(
    cache_dir: Optional[Path] = CACHE_DIR,
    limit: Optional[int] = typer.Option(None, help="Show only the N most recently used takes."),
    as_json: bool = typer.Option(False, "--json", help="Print the list as JSON."),
) -> None:
    """List the takes, most recently used first: key, size, last use, shot, take, seed and prompt."""
    cache = open_cache(cache_dir)
    rows = list_takes(cache, limit)
    if as_json:
        out.print_json(json.dumps(rows))
    elif not rows:
        out.print(f"no takes in {cache.root}", highlight=False)
    else:
        out.print(takes_list_table(cache.root, rows))


@command(cache_app, "du")
def du(
    cache_dir: Optional[Path] = CACHE_DIR,
    as_json: bool = typer.Option(False, "--json", help="Print the numbers as JSON."),
) -> None:
    """How much the cache holds: takes, bytes, and the range of their last use."""
    u = usage(open_cache(cache_dir))
    if as_json:
        out.print_json(json.dumps(u))
        return
    line = f"{u['takes']} takes, {human_bytes(u['bytes'])} in {u['root']}"
    if u["takes"]:
        line += f" (last used {_when(u['oldest_use'])} to {_when(u['newest_use'])})"
    if u["leftover_files"]:
        line += f"; {u['leftover_files']} unfinished writes ({human_bytes(u['leftover_bytes'])}), removed by gc"
    out.print(line, highlight=False, soft_wrap=True)


@command(cache_app, "gc")
def gc(
    cache_dir: Optional[Path] = CACHE_DIR,
    keep_last: Optional[int] = typer.Option(None, help="Keep only the N most recently used takes (default: keep every take)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be deleted; delete nothing."),
) -> None:
    """Delete all but the N most recently used takes, and files left by writes that were killed."""
    res = collect(open_cache(cache_dir), keep_last, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    out.print(f"{verb} {res['removed']} takes and {res['leftovers']} unfinished writes, "
              f"{human_bytes(res['freed'])}; {res['kept']} takes kept", highlight=False)
