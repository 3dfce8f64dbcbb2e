"""storyreel: song + storyboard -> AI music video."""
__version__ = "0.1.0"
