"""`storyreel takes OUT.plan.json`: every shot's takes and scores, the kept one marked."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from ..errors import StoryreelError
from .app import command, out


def read_plan_record(path: Path) -> dict:
    """The plan JSON a render wrote (with its takes); clear errors for missing or broken files."""
    if not path.exists():
        raise StoryreelError("file not found", file=str(path))
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise StoryreelError(f"not valid JSON: {e.msg}", file=str(path), line=e.lineno) from None
    if not isinstance(record, dict) or "shots" not in record:
        raise StoryreelError("not a storyreel plan (no 'shots')", file=str(path))
    return record


def _score(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def takes_table(record: dict) -> Table:
    t = Table(title=f"{record.get('title', '')}: takes per shot (* = kept; numbered from 1, as --pick takes them)")
    for col in ("shot", "take", "seed", "score", "continuity", "stability", "adherence", "key"):
        t.add_column(col, justify="right" if col not in ("key",) else "left")
    for shot in record["shots"]:
        for take in shot.get("takes", []):
            parts = take.get("scores", {})
            mark = "*" if take["take"] == shot.get("take", 0) else ""
            t.add_row(
                str(shot["index"] + 1), f"{take['take'] + 1}{mark}", str(take["seed"]), _score(take.get("score")),
                _score(parts.get("continuity")), _score(parts.get("stability")), _score(parts.get("adherence")),
                take["key"][:12],
            )
    return t


@command()
def takes(plan_json: Path = typer.Argument(..., help="OUT.plan.json written by render.")) -> None:
    """List every shot's takes with their scores; the kept one is marked."""
    out.print(takes_table(read_plan_record(plan_json)))
