"""`storyreel analyze SONG [--json] [--plot FILE.png]`: tempo, beats, downbeats, sections, energy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .app import command, console, out


def _mmss(t: float) -> str:
    return f"{int(t // 60)}:{t % 60:04.1f}"


def summary_table(mm) -> Table:
    """Tempo, meter, counts, then one row per section (of a music.MusicMap) with its bars and energy."""
    t = Table(title=f"{mm.source or 'song'}: {mm.tempo:.1f} BPM, {mm.meter_name}, {_mmss(mm.duration)}")
    for col in ("section", "start", "end", "bars", "energy", "rank"):
        t.add_column(col, justify="right" if col != "section" else "left")
    downbeats = mm.downbeats
    for s in mm.sections:
        bars = sum(1 for d in downbeats if s.start - 1e-6 <= d < s.end - 1e-6)
        label = f"{s.label} ({s.name})" if s.name else s.label
        t.add_row(label, _mmss(s.start), _mmss(s.end), str(bars), f"{s.energy:.2f}", str(s.energy_rank))
    t.caption = f"{len(mm.beats)} beats, {len(downbeats)} bars, {len(mm.sections)} sections"
    return t


UNSURE = 0.5  # a confidence below this gets a warning naming the storyboard key that overrides it
OVERRIDES = {  # what was detected -> the storyboard key that corrects it, and what to write there
    "tempo": ("tempo", "`tempo:` (the BPM you tap) in the storyboard"),
    "meter": ("meter", "`beats_per_bar:` (2 for 2/4 or 6/8, 3 for 3/4, 4 for 4/4 or 12/8) in the storyboard"),
    "downbeat": ("first beat of the bar", "`downbeat_offset:` (seconds of the first downbeat) in the storyboard"),
}


def confidence_lines(mm) -> list[str]:
    """'confidence: ...' and one warning per unsure choice, naming the override; [] for a map without them."""
    conf = mm.confidence or {}
    if not conf:
        return []
    lines = ["confidence: " + ", ".join(f"{k} {conf[k]:.2f}" for k in OVERRIDES if k in conf)]
    for key, (what, fix) in OVERRIDES.items():
        if conf.get(key, 1.0) < UNSURE:
            lines.append(f"warning: unsure of the {what} ({conf[key]:.2f}); if it is wrong, set {fix}")
    return lines


@command()
def analyze(
    song: str = typer.Argument(..., help="Audio file (wav, flac, mp3, ogg, m4a), or 'demo'."),
    as_json: bool = typer.Option(False, "--json", help="Print the analysis as JSON."),
    plot: Optional[Path] = typer.Option(None, help="Draw waveform, energy, beats, downbeats and sections to a PNG."),
    beats_per_bar: Optional[int] = typer.Option(None, help="Force the beats a bar (2 for 2/4 or 6/8, 3 for 3/4; default: detect)."),
    fps: float = typer.Option(24.0, help="Rate of the energy and onset curves."),
) -> None:
    """Tempo, beats, downbeats, sections and energy of a song."""
    from ..music.demo_song import demo_song_path  # deferred: see cli.app
    from ..music.plot import plot as plot_music
    from ..pipeline import analyze_song
    from .progress import Bars

    path = demo_song_path() if song == "demo" else Path(song)
    with Bars() as bars:
        mm = analyze_song(path, fps, beats_per_bar=beats_per_bar, progress=bars)
    if plot:
        plot_music(mm, path, plot)
    if as_json:
        out.print_json(json.dumps(mm.to_dict()))
    else:
        out.print(summary_table(mm))
    for line in confidence_lines(mm):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if plot:
        console.print(f"wrote {plot}")
