"""The song: decoding, the analysis into a MusicMap (tempo, beats, bars, sections, energy), its cache and plot."""

from .analysis import analyze, analyze_audio
from .musicmap import MusicMap, Section

__all__ = ["MusicMap", "Section", "analyze", "analyze_audio"]
