"""MusicMap: what the song is (tempo, beats, bars, sections, energy) as plain data. Times in seconds."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Section:
    """A stretch of the song between two downbeats, labelled so repeats share a letter."""

    start: float
    end: float
    label: str  # "A", "B", "A'", ...
    energy: float  # mean loudness, 0..1 relative to the song
    energy_rank: int  # 0 = quietest section group
    name: str = ""  # intro / verse / chorus ... when known (e.g. from a generator's ground truth)


@dataclass
class MusicMap:
    """The song's musical grid and shape. Times in seconds."""

    duration: float
    tempo: float  # BPM (median)
    beats: list[float]
    downbeats: list[float]
    beats_per_bar: int
    sections: list[Section]
    energy_fps: float = 24.0
    energy: list[float] = field(default_factory=list)  # smoothed loudness per frame at energy_fps, 0..1
    onsets: list[float] = field(default_factory=list)  # onset strength per frame at energy_fps, 0..1
    sample_rate: int = 22050
    source: str = ""  # path of the analysed file
    audio_hash: str = ""
    confidence: dict[str, float] = field(default_factory=dict)  # tempo / meter / downbeat, 0..1 (empty: unknown)
    subdivision: int = 2  # each beat in 2 (simple meter) or 3 (compound: 6/8, 12/8)
    time_signature: str = ""  # "4/4", "3/4", "2/4", "6/8", "12/8" ... ("" in maps from before it was known)

    @property
    def meter_name(self) -> str:
        """The time signature, or beats_per_bar/4 for a map that has none."""
        return self.time_signature or f"{self.beats_per_bar}/4"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "MusicMap":
        d = dict(d)
        d["sections"] = [Section(**s) for s in d.get("sections", [])]
        return cls(**d)
