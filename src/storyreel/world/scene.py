"""The world's scenes and words: objects, settings and camera moves, their captions, and reading a prompt back.

Every video of the world is a scene (setting, camera move, one or two objects
with colour, shape and motion). The same scene has many captions (word order,
synonyms), so a model trained on it learns meaning rather than templates.
The vocabulary and the scene -> caption function are public because
evaluation uses them to build held-out prompts and to know the truth that
pixel detectors are scored against; `parse` reads a prompt back into the
vocabulary (take scoring, the animatic's pictures).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np

# Vocabulary ---------------------------------------------------------------

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (225, 30, 35),
    "orange": (250, 140, 20),
    "yellow": (250, 225, 40),
    "green": (40, 190, 60),
    "blue": (35, 80, 235),
    "purple": (140, 50, 200),
    "pink": (250, 120, 190),
    "white": (250, 250, 250),
}
SHAPES = ("circle", "square", "triangle", "star", "heart")
MOTIONS = ("left", "right", "up", "down", "grows", "shrinks", "still")
SETTINGS = ("day sky", "sunset", "night sky", "meadow")
CAMERAS = ("static", "zoom in", "zoom out", "pan left", "pan right")

COLOUR_WORDS: dict[str, tuple[str, ...]] = {
    "red": ("red", "crimson", "scarlet"),
    "orange": ("orange", "tangerine", "amber"),
    "yellow": ("yellow", "golden", "lemon"),
    "green": ("green", "emerald", "lime"),
    "blue": ("blue", "azure", "cobalt"),
    "purple": ("purple", "violet", "lilac"),
    "pink": ("pink", "rose", "magenta"),
    "white": ("white", "snowy", "ivory"),
}
SHAPE_WORDS: dict[str, tuple[str, ...]] = {
    "circle": ("circle", "disc", "ball", "round dot"),
    "square": ("square", "box", "block"),
    "triangle": ("triangle", "pyramid shape", "wedge"),
    "star": ("star", "five-pointed star"),
    "heart": ("heart", "love heart"),
}
MOTION_WORDS: dict[str, tuple[str, ...]] = {
    "left": ("moves left", "drifts left", "slides to the left", "glides leftward", "travels to the left"),
    "right": ("moves right", "drifts right", "slides to the right", "glides rightward", "travels to the right"),
    "up": ("moves up", "rises", "floats upward", "drifts up", "climbs"),
    "down": ("moves down", "falls", "sinks", "drifts down", "descends"),
    "grows": ("grows", "gets bigger", "expands", "swells"),
    "shrinks": ("shrinks", "gets smaller", "contracts", "dwindles"),
    "still": ("stays still", "rests in place", "hovers motionless", "sits still"),
}
SETTING_WORDS: dict[str, tuple[str, ...]] = {
    "day sky": ("in a day sky", "against a blue daytime sky", "under a clear day sky", "in the daylight sky"),
    "sunset": ("at sunset", "in a sunset sky", "against the evening sunset", "at dusk"),
    "night sky": ("in the night sky", "at night", "under a starry night sky", "across a night sky"),
    "meadow": ("over a meadow", "in a green meadow", "above a grassy field", "over the meadow"),
}
CAMERA_WORDS: dict[str, tuple[str, ...]] = {
    "static": ("", "with a static camera", "the camera holds still"),
    "zoom in": ("the camera zooms in", "as the camera pushes in", "zooming in"),
    "zoom out": ("the camera zooms out", "as the camera pulls back", "zooming out"),
    "pan left": ("the camera pans left", "as the camera pans to the left", "panning left"),
    "pan right": ("the camera pans right", "as the camera pans to the right", "panning right"),
}
TOWARD_WORDS = ("drift toward each other", "move toward each other", "approach each other")

# Phrasings reserved for evaluation: never used to make training captions.
HELDOUT_TEMPLATES = frozenset({"eval"})


# The frame sizes the world is drawn at for training and read at for evaluation (height, width):
# the built-in model's native sizes.
SIZES = {"16:9": (48, 80), "1:1": (48, 48), "9:16": (80, 48)}


@dataclass(frozen=True)
class Thing:
    """One object in a scene."""

    colour: str
    shape: str
    motion: str


@dataclass(frozen=True)
class Scene:
    """What a video shows; everything a caption can say about it."""

    things: tuple[Thing, ...]
    setting: str
    camera: str = "static"

    @property
    def toward(self) -> bool:
        """Two objects, the left one moving right and the right one moving left."""
        return len(self.things) == 2 and self.things[0].motion == "right" and self.things[1].motion == "left"


@dataclass(frozen=True)
class Layout:
    """Nuisance variables a caption does not fix: positions, sizes, texture seed."""

    centres: tuple[tuple[float, float], ...]
    sizes: tuple[float, ...]
    texture_seed: int
    speed: float = 1.0
    travel: float = 0.42  # how far a moving object goes over the clip, in short-side units


@dataclass(frozen=True)
class WorldStyle:
    """The ranges random scenes and layouts are drawn from; every style draws the same vocabulary.

    CLASSIC is the world the probe, the animatic and the v1 model know. BOLD is
    the built-in model v2's training world: objects a third bigger (each covers
    more latent cells, so its outline is what the loss sees), motion that
    travels further (a motion is then several latent cells, not a fraction of
    one), and camera moves in a quarter of the clips rather than half, so an
    object's own motion is not confounded with the camera's.
    """

    size: tuple[float, float] = (0.15, 0.22)  # object radius, short-side units
    travel: tuple[float, float] = (0.42, 0.42)
    moving_camera: float = 0.5  # share of clips with a camera move
    two_prob: float = 0.35  # share of two-object scenes


CLASSIC = WorldStyle()
BOLD = WorldStyle(size=(0.2, 0.27), travel=(0.5, 0.6), moving_camera=0.25, two_prob=0.3)


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def article(words: str) -> str:
    """The article, 'a' or 'an', before `words`."""
    return "an" if words[0] in "aeiou" else "a"


def _noun_phrase(thing: Thing, rng: np.random.Generator) -> str:
    words = f"{_pick(rng, COLOUR_WORDS[thing.colour])} {_pick(rng, SHAPE_WORDS[thing.shape])}"
    return f"{article(words)} {words}"


def caption(scene: Scene, rng: np.random.Generator | int = 0, *, canonical: bool = False) -> str:
    """A caption for `scene`; `rng` picks one of many phrasings.

    canonical=True gives the plain first-synonym phrasing used in docs and tests.
    """
    if isinstance(rng, int):
        rng = np.random.default_rng(rng)
    if canonical:
        rng = _FirstChoice()
    setting = _pick(rng, SETTING_WORDS[scene.setting])
    camera = _pick(rng, CAMERA_WORDS[scene.camera])
    if len(scene.things) == 1:
        thing = scene.things[0]
        subject = _noun_phrase(thing, rng)
        verb = _pick(rng, MOTION_WORDS[thing.motion])
        order = int(rng.integers(3))
        if order == 0:
            text = f"{subject} {verb} {setting}"
        elif order == 1:
            text = f"{setting}, {subject} {verb}"
        else:
            text = f"{subject} {setting} {verb}"
    else:
        a, b = scene.things
        pa, pb = _noun_phrase(a, rng), _noun_phrase(b, rng)
        if scene.toward and rng.random() < 0.6:
            text = f"{pa} and {pb} {_pick(rng, TOWARD_WORDS)} {setting}"
        else:
            va, vb = _pick(rng, MOTION_WORDS[a.motion]), _pick(rng, MOTION_WORDS[b.motion])
            if rng.random() < 0.5:
                text = f"{pa} {va} and {pb} {vb} {setting}"
            else:
                text = f"{setting}, {pa} {va} while {pb} {vb}"
    if camera:
        text = f"{text}, {camera}" if rng.random() < 0.7 else f"{camera}: {text}"
    return text


class _FirstChoice:
    """A stand-in rng that always picks the first option (canonical captions)."""

    def integers(self, n: int) -> int:  # noqa: D401 - mimics numpy
        return 0

    def random(self) -> float:
        return 0.0


def is_heldout(thing: Thing, setting: str) -> bool:
    """About 10% of (colour, shape, motion, setting) combinations never appear in training."""
    key = f"{thing.colour}|{thing.shape}|{thing.motion}|{setting}".encode()
    return hashlib.sha256(key).digest()[0] < 26


def random_scene(rng: np.random.Generator, *, two_prob: float | None = None, heldout: bool | None = False,
                 style: WorldStyle = CLASSIC) -> Scene:
    """A random scene. heldout=False excludes held-out combinations, True keeps only them, None allows all."""
    two_prob = style.two_prob if two_prob is None else two_prob
    while True:
        setting = _pick(rng, SETTINGS)
        camera = "static" if rng.random() < 1.0 - style.moving_camera else _pick(rng, CAMERAS[1:])
        n = 2 if rng.random() < two_prob else 1
        things = []
        for _ in range(n):
            things.append(Thing(_pick(rng, tuple(COLOURS)), _pick(rng, SHAPES), _pick(rng, MOTIONS)))
        if n == 2:
            if things[0].colour == things[1].colour and things[0].shape == things[1].shape:
                continue
            if rng.random() < 0.3:  # "drift toward each other" scenes
                things[0] = Thing(things[0].colour, things[0].shape, "right")
                things[1] = Thing(things[1].colour, things[1].shape, "left")
        scene = Scene(tuple(things), setting, camera)
        held = any(is_heldout(t, setting) for t in things)
        if heldout is None or held == heldout:
            return scene


def _phrases(table: dict[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    """(phrase, meaning) pairs, longest phrase first so 'love heart' wins over 'heart'."""
    pairs = [(p, k) for k, ps in table.items() for p in ps if p]
    return sorted(pairs, key=lambda pk: -len(pk[0]))


def parse(text: str) -> dict:
    """What a prompt asks for in the world's vocabulary: objects (colour, shape) in order, motions, setting, camera.

    Used to score prompt adherence of takes; words outside the vocabulary are
    ignored, so a prompt with extra style text still parses.
    """
    low = " " + text.lower() + " "
    found: list[tuple[int, str, str]] = []  # (position, kind, meaning)
    for kind, table in (("colour", COLOUR_WORDS), ("shape", SHAPE_WORDS), ("motion", MOTION_WORDS),
                        ("setting", SETTING_WORDS), ("camera", CAMERA_WORDS)):
        taken = [False] * len(low)
        for phrase, meaning in _phrases(table):
            for m in re.finditer(r"(?<![a-z])" + re.escape(phrase) + r"(?![a-z])", low):
                if not any(taken[m.start() : m.end()]):
                    found.append((m.start(), kind, meaning))
                    for i in range(m.start(), m.end()):
                        taken[i] = True
    found.sort()
    objects, colour = [], None
    for _, kind, meaning in found:
        if kind == "colour":
            colour = meaning
        elif kind == "shape":
            objects.append((colour, meaning))
            colour = None
    motions = [m for _, k, m in found if k == "motion"]
    if any(p in low for p in TOWARD_WORDS) and len(objects) == 2:
        motions = ["right", "left"]
    settings = [m for _, k, m in found if k == "setting"]
    cameras = [m for _, k, m in found if k == "camera"]
    return {
        "objects": objects,
        "motions": motions,
        "setting": settings[0] if settings else None,
        "camera": cameras[0] if cameras else "static",
    }
