"""The procedural world: captioned videos with exact ground truth, drawn deterministically from a seed.

Shared by the built-in model's training (models.builtin.train), its
evaluation (eval) and the animatic's pictures (output.animatic): one
vocabulary (world.scene), one renderer (world.draw).
"""

from .draw import Sample, camera_transform, object_state, random_layout, render, sample, screen_objects
from .scene import (
    BOLD,
    CLASSIC,
    CAMERA_WORDS,
    CAMERAS,
    COLOUR_WORDS,
    COLOURS,
    HELDOUT_TEMPLATES,
    MOTION_WORDS,
    MOTIONS,
    SETTING_WORDS,
    SETTINGS,
    SHAPE_WORDS,
    SHAPES,
    SIZES,
    TOWARD_WORDS,
    Layout,
    Scene,
    Thing,
    WorldStyle,
    article,
    caption,
    is_heldout,
    parse,
    random_scene,
)

__all__ = [
    "BOLD", "CLASSIC", "WorldStyle", "CAMERA_WORDS", "CAMERAS", "COLOUR_WORDS", "COLOURS", "HELDOUT_TEMPLATES", "MOTION_WORDS", "MOTIONS",
    "SETTING_WORDS", "SETTINGS", "SHAPE_WORDS", "SHAPES", "SIZES", "TOWARD_WORDS", "Layout", "Sample", "Scene",
    "Thing", "article", "camera_transform", "caption", "is_heldout", "object_state", "parse", "random_layout",
    "random_scene", "render", "sample", "screen_objects",
]
