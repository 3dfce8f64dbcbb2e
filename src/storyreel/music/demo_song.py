"""The demo song: a deterministic 4-minute chillwave song whose beats, bars and sections are known exactly.

Two uses: the demo's soundtrack (`demo_song_path`, the DEMO spec: 100 BPM, 4/4,
100 bars, intro-verse-chorus-verse-chorus-bridge-chorus-outro, synthesised once
per machine into the user's cache), and test material with exact ground truth
for the music analysis (`music.synth.synth_song` with other tempi, meters, a
tempo ramp, swing, quiet intros and fade-outs).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

from .audio import write_wav
from .songspec import GroundTruth, PartSpec, SongSpec, timeline
from .synth import synth_song

def _part(name, bars, chords, instruments, **kw) -> PartSpec:
    return PartSpec(name, bars, tuple(chords.split()), frozenset(instruments.split()), **kw)


# Ab major / F minor. Verse vi-IV-I-V, chorus I-vi-IV-V, bridge borrows Gb and the V of Fm.
VERSE = "Fm7 Dbmaj7 Abmaj7 Eb6"


CHORUS = "Abmaj7 Fm9 Dbmaj7 Ebadd9"


BRIDGE = "Bbm7 Gbmaj7 Dbmaj7 C7"


DEMO = SongSpec(
    parts=(
        _part("intro", 8, "Fm9 Dbmaj7", "pad kick hats", gain_db=-9.0, brightness=0.15, chord_bars=2),
        _part("verse", 16, VERSE, "pad kick snare hats bass", gain_db=-3.0, brightness=0.4),
        _part("chorus", 16, CHORUS, "pad kick snare hats openhat bass lead", gain_db=0.0, brightness=0.85),
        _part("verse", 12, VERSE, "pad kick snare hats bass", gain_db=-3.0, brightness=0.4),
        _part("chorus", 16, CHORUS, "pad kick snare hats openhat bass lead", gain_db=0.0, brightness=0.85),
        _part("bridge", 8, BRIDGE, "pad kick arp bass", gain_db=-5.0, brightness=0.25),
        _part("chorus", 16, CHORUS, "pad kick snare hats openhat bass lead", gain_db=0.0, brightness=0.85),
        _part("outro", 8, VERSE, "pad kick hats bass", gain_db=-4.0, brightness=0.3),
    ),
    tempo=100.0,
    beats_per_bar=4,
    fade_out_bars=8,
    seed=7,
)


def ground_truth(spec: SongSpec = DEMO) -> GroundTruth:
    """The exact beats, downbeats and sections of `spec` (default: the demo song) without synthesising."""
    return timeline(spec).truth


def fingerprint(spec: SongSpec = DEMO) -> str:
    """A short hash of everything that determines the song, stable across processes.

    (repr() is not: it lists frozensets in the order of Python's per-process
    string hashing, so a repr-keyed file was synthesised anew on every run.)
    """
    text = json.dumps(asdict(spec), sort_keys=True, default=sorted)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def synthesize(path: str | os.PathLike, sr: int = 22050, spec: SongSpec = DEMO) -> GroundTruth:
    """Write `spec` (default: the demo song) as a 16-bit WAV at `path` (atomically); return its ground truth."""
    y, truth = synth_song(spec, sr)
    write_wav(path, y, sr)
    return truth


def demo_song_path() -> Path:
    """The bundled demo song, synthesised once (deterministically) into the user's cache."""
    root = Path(os.environ.get("STORYREEL_DEMO_DIR", Path.home() / ".cache" / "storyreel" / "demo"))
    path = root / f"demo-song-{fingerprint()}.wav"  # a changed song gets a new file
    if not path.exists():
        synthesize(path)
        for stale in root.glob("demo-song-*.wav"):  # songs of older versions: 10 MB each, never read again
            if stale != path:
                stale.unlink(missing_ok=True)
    return path
