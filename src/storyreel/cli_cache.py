"""`storyreel cache ls|du|gc`: show and trim the take cache.

Every generated take lives in the content-addressed cache (storyreel.cache)
under a key that hashes everything that made it, so a re-render reuses it
and a killed render resumes from it. These commands list the takes (newest
use first), add up their size, and delete all but the most recently used.

`register(app)` adds the `cache` group to the command-line app (cli.py
calls it with its own `app`).
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from .cache import TakeCache, default_cache_dir
from .errors import StoryreelError

LEFTOVER_AGE = 60.0  # seconds: a temporary take file older than this belongs to a writer that died

cache_app = typer.Typer(no_args_is_help=True, help="Show and trim the take cache (ls, du, gc).")

CACHE_DIR = typer.Option(None, "--cache-dir", help="The take cache (default $STORYREEL_CACHE, else ~/.cache/storyreel/takes).")


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"  # pragma: no cover


def open_cache(cache_dir: Path | None) -> TakeCache:
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if root.exists() and not root.is_dir():
        raise StoryreelError("the cache path is not a folder", file=str(root))
    return TakeCache(root)


def describe(cache: TakeCache, key: str) -> dict:
    """What a take's metadata says (shot, take, prompt, seed, model, frames); {} if unreadable."""
    try:
        with np.load(cache._path(key), allow_pickle=False) as data:
            info = json.loads(str(data["info"]))
            shape = data["frames"].shape if "frames" in data.files else None
    except Exception:  # noqa: BLE001 - a corrupt entry is listed, not fatal; `get` regenerates it
        return {"corrupt": True}
    keep = ("shot", "take", "prompt", "seed", "model", "stored")
    out = {k: info[k] for k in keep if k in info}
    if shape is not None:
        out["frames"], out["size"] = int(shape[0]), f"{shape[2]}x{shape[1]}"
    return out


def list_takes(cache: TakeCache, limit: int | None = None) -> list[dict]:
    """Every take, most recently used first: key, bytes, last used (epoch seconds) and its metadata."""
    rows = []
    for key, size, used in cache.entries()[:limit]:
        rows.append({"key": key, "bytes": size, "last_used": used, **describe(cache, key)})
    return rows


def leftovers(cache: TakeCache, min_age: float = LEFTOVER_AGE) -> list[Path]:
    """Temporary files of writers that were killed mid-write (never read back; safe to delete)."""
    now = time.time()
    out = []
    for p in cache.root.glob("*/.*.tmp"):
        try:
            if now - p.stat().st_mtime >= min_age:
                out.append(p)
        except FileNotFoundError:  # renamed into place meanwhile
            pass
    return out


def usage(cache: TakeCache) -> dict:
    """Takes, bytes, the oldest and newest last use, and leftover temporary files."""
    entries = cache.entries()
    tmp = leftovers(cache, 0.0)
    return {
        "root": str(cache.root), "takes": len(entries), "bytes": sum(e[1] for e in entries),
        "newest_use": entries[0][2] if entries else None, "oldest_use": entries[-1][2] if entries else None,
        "leftover_files": len(tmp), "leftover_bytes": sum(_size(p) for p in tmp),
    }


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except FileNotFoundError:
        return 0


def collect(cache: TakeCache, keep_last: int | None, *, dry_run: bool = False) -> dict:
    """Delete all but the `keep_last` most recently used takes (None: keep all) and dead writers' leftovers."""
    if keep_last is not None and keep_last < 0:
        raise StoryreelError(f"--keep-last must be 0 or more, got {keep_last}", field="--keep-last")
    doomed = [(cache._path(k), s) for k, s, _ in cache.entries()[keep_last:]] if keep_last is not None else []
    junk = [(p, _size(p)) for p in leftovers(cache)]
    for p, _ in doomed + junk if not dry_run else []:
        p.unlink(missing_ok=True)
    kept = len(cache.entries()) if not dry_run else len(cache.entries()) - len(doomed)
    return {"removed": len(doomed), "freed": sum(s for _, s in doomed + junk), "leftovers": len(junk), "kept": kept,
            "dry_run": dry_run}


def _when(t: float | None) -> str:
    return datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M") if t else "-"


@cache_app.command("ls")
def ls(
    cache_dir: Optional[Path] = CACHE_DIR,
    limit: Optional[int] = typer.Option(None, help="Show only the N most recently used takes."),
    as_json: bool = typer.Option(False, "--json", help="Print the list as JSON."),
) -> None:
    """List the takes, most recently used first: key, size, last use, shot, take, seed and prompt."""
    from rich.table import Table

    from .cli import _fail, out

    try:
        cache = open_cache(cache_dir)
        rows = list_takes(cache, limit)
    except StoryreelError as e:
        _fail(e)
    if as_json:
        out.print_json(json.dumps(rows))
        return
    if not rows:
        out.print(f"no takes in {cache.root}", highlight=False)
        return
    table = Table(title=f"takes in {cache.root}", title_justify="left")
    for col in ("key", "size", "last used", "shot", "take", "seed", "prompt"):
        table.add_column(col, justify="right" if col in {"size", "shot", "take", "seed"} else "left")
    for r in rows:
        shot = str(r["shot"] + 1) if isinstance(r.get("shot"), int) else "-"
        take = str(r["take"] + 1) if isinstance(r.get("take"), int) else "-"
        prompt = "[red]corrupt: regenerated on next use[/]" if r.get("corrupt") else str(r.get("prompt", ""))
        table.add_row(r["key"][:12], human_bytes(r["bytes"]), _when(r["last_used"]), shot, take,
                      str(r.get("seed", "-")), prompt)
    out.print(table)


@cache_app.command("du")
def du(
    cache_dir: Optional[Path] = CACHE_DIR,
    as_json: bool = typer.Option(False, "--json", help="Print the numbers as JSON."),
) -> None:
    """How much the cache holds: takes, bytes, and the range of their last use."""
    from .cli import _fail, out

    try:
        u = usage(open_cache(cache_dir))
    except StoryreelError as e:
        _fail(e)
    if as_json:
        out.print_json(json.dumps(u))
        return
    line = f"{u['takes']} takes, {human_bytes(u['bytes'])} in {u['root']}"
    if u["takes"]:
        line += f" (last used {_when(u['oldest_use'])} to {_when(u['newest_use'])})"
    if u["leftover_files"]:
        line += f"; {u['leftover_files']} unfinished writes ({human_bytes(u['leftover_bytes'])}), removed by gc"
    out.print(line, highlight=False, soft_wrap=True)


@cache_app.command("gc")
def gc(
    cache_dir: Optional[Path] = CACHE_DIR,
    keep_last: Optional[int] = typer.Option(None, help="Keep only the N most recently used takes (default: keep every take)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be deleted; delete nothing."),
) -> None:
    """Delete all but the N most recently used takes, and files left by writes that were killed."""
    from .cli import _fail, out

    try:
        res = collect(open_cache(cache_dir), keep_last, dry_run=dry_run)
    except StoryreelError as e:
        _fail(e)
    verb = "would remove" if dry_run else "removed"
    out.print(f"{verb} {res['removed']} takes and {res['leftovers']} unfinished writes, "
              f"{human_bytes(res['freed'])}; {res['kept']} takes kept", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the `cache` command group (ls, du, gc) to `app`."""
    app.add_typer(cache_app, name="cache")
