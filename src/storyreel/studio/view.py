"""What the page shows, as JSON: the song (peaks, beats, bars, sections, confidence) and the planned shots."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..models.registry import prompt_reader
from ..music import MusicMap
from ..music.audio import load_audio
from ..storyboard import Storyboard
from ..storyboard.source import format_loc
from ..storyboard.vocabulary import CAMERA_MOVES, TRANSITIONS
from .project import Snapshot
from .takes_state import TakesState

PEAKS = 2000  # waveform columns sent to the page (wavesurfer draws them; the page never decodes the song)
OVERRIDE_OF = {"tempo": "tempo", "meter": "beats_per_bar", "downbeat": "downbeat_offset"}  # unsure -> the key to set
CORRECTABLE = ("tempo", "downbeat_offset", "section_starts", "beats_per_bar")  # song overrides, where the schema has them


@lru_cache(maxsize=4)
def peaks(song: str, mtime_ns: int) -> list[float]:
    """Max |sample| per column, 0..1: the waveform without decoding it in the browser."""
    y, _ = load_audio(song, sr=8000)  # (n,) mono; 8 kHz is plenty for a picture
    cols = np.array_split(np.abs(y), PEAKS)
    top = np.array([c.max() if len(c) else 0.0 for c in cols], np.float32)
    return [round(float(v), 3) for v in top / max(float(top.max()), 1e-6)]


def song_view(music: MusicMap, song: Path) -> dict:
    """The analysis as the page draws it; `confidence` where the analysis reports one."""
    bpb = music.beats_per_bar
    energy = np.asarray(music.energy, np.float32)
    sections = []
    for s in music.sections:
        sections.append({"start": s.start, "end": s.end, "label": s.label, "name": s.name,
                         "energy": round(float(s.energy), 3), "energy_rank": s.energy_rank})
    confidence = {k: round(float(v), 3) for k, v in (music.confidence or {}).items()} or None
    return {
        "duration": music.duration, "tempo": round(music.tempo, 2), "beats_per_bar": bpb,
        "time_signature": music.meter_name,
        "beats": [round(b, 4) for b in music.beats], "downbeats": [round(b, 4) for b in music.downbeats],
        "sections": sections, "confidence": confidence, "overrides": OVERRIDE_OF,
        "energy": [round(float(v), 3) for v in energy[:: max(1, len(energy) // PEAKS)]] if len(energy) else [],
        "peaks": peaks(str(song), song.stat().st_mtime_ns),
    }


def correctable(storyboard_fields: dict | None = None) -> list[str]:
    """The song overrides this storyboard schema accepts (the music analysis adds keys as it learns them)."""
    fields = storyboard_fields if storyboard_fields is not None else Storyboard.model_fields
    return [k for k in CORRECTABLE if k in fields]


def spec_at(data: Any, loc: list) -> dict:
    """The storyboard's own entry for a shot, as the editor's fields: a plain-string shot is {prompt: ...}."""
    node = data
    for key in loc:
        node = node[key]
    return {"prompt": node} if isinstance(node, str) else dict(node)


def plan_view(snap: Snapshot, takes: TakesState) -> dict:
    """The shots as the lane and the editor show them, with each one's takes and kept take."""
    out: dict[str, Any] = {"version": snap.version, "error": None, "shots": [], "storyboard": snap.data,
                           "vocabulary": {"camera": list(CAMERA_MOVES), "transition": list(TRANSITIONS)},
                           "correctable": correctable()}
    if snap.error is not None:
        e = snap.error
        out["error"] = {"message": e.format(), "field": e.field, "line": e.line}
    if snap.plan is None:
        return out
    plan = snap.plan
    out.update(title=plan.title, fps=plan.fps, frames=plan.frames, duration=plan.duration, model=plan.model)
    cut = plan.cut.to_list()
    read = prompt_reader(plan.model)
    for shot, join in zip(plan.shots, cut):
        fam = takes.family(shot)
        out["shots"].append({
            "index": shot.index, "start": shot.start, "end": shot.end, "start_frame": shot.start_frame,
            "end_frame": shot.end_frame, "text": shot.text, "prompt": shot.prompt, "seed": shot.seed,
            "section": shot.section, "bars": shot.bars, "start_bar": shot.start_bar, "start_beat": shot.start_beat,
            "camera": shot.camera.__dict__, "transition": shot.transition.__dict__, "cut": join,
            "era": shot.era, "notes": shot.notes, "source": shot.source, "field": format_loc(tuple(shot.source)),
            "spec": spec_at(snap.data, shot.source) if shot.source else {},
            "takes": fam.get("takes", []), "kept": fam.get("kept"), "pending": bool(fam.get("pending")),
            "reads_as": read(shot.prompt) if read else None,
        })
    return out
