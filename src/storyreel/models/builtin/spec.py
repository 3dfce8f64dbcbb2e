"""What the built-in model is, known without loading it (or torch): its capabilities and native format."""

from __future__ import annotations

from ...world import SIZES
from ..base import NativeFormat

BUILTIN_CAPABILITIES = frozenset({"t2v", "i2v", "extend", "connect", "v2v"})
NATIVE = NativeFormat(fps=8.0, frames=16, height=48, width=80, size_multiple=16, frame_rule=(2, 0))
NATIVE_SIZES = SIZES  # aspect -> (height, width): the sizes it was trained at, the world's
