"""Write the demo soundtrack, song.wav, next to this script (about 4 minutes, 100 BPM, 4/4).

The song is synthesised deterministically by storyreel.demo_song, so its beats, bars and
sections are known exactly; WAV files are git-ignored, so run this once after a checkout:

    python examples/hardest-part/make_song.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from storyreel.music.demo_song import synthesize


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else Path(__file__).with_name("song.wav")
    truth = synthesize(out)
    sections = ", ".join(f"{name} {start:.1f}s" for name, start, _ in truth.sections)
    print(f"wrote {out} ({truth.duration:.1f} s, {truth.tempo:g} BPM, {len(truth.downbeats)} bars): {sections}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
