"""The layout-guided model's planner: a prompt read into a scene of the world (objects, motions, setting, camera).

LVD and VideoDirectorGPT ask a large language model for the scene layout; the
built-in model has only a 22 M-parameter sentence encoder, so it reads the
prompt with a lexicon and falls back on that encoder's similarity:

1. phrases of the world's own vocabulary (world.scene's tables), longest first;
2. a wider English lexicon: the colour names of CSS and of the xkcd colour
   survey (shipped with matplotlib), each mapped to the palette colour nearest
   in RGB, and common words for the shapes, motions and settings;
3. for a fact still missing (an object with no shape word, no motion, no
   setting), the phrase of the prompt most similar to a vocabulary phrase under
   MiniLM, if it is similar enough.

What the prompt does not say is filled in plainly: an object with no colour is
white, no motion is still, no setting is a day sky. A prompt with no object word
gives a scene with no objects, and the model then draws without a layout.
"""

from __future__ import annotations

import colorsys
import re
from functools import lru_cache

import numpy as np

from ... import world

# Words the world's captions never use, for the same facts. Whole words or phrases, matched on word boundaries.
_EXTRA_SHAPES = {
    "circle": ("round", "ring", "sphere", "dot", "disk", "circular shape", "bubble", "moon shape", "oval", "globe",
               "coin", "round thing"),
    "square": ("tile", "quadrilateral", "rectangle", "square shape", "four-sided shape", "diamond", "brick", "slab",
               "rectangular"),
    "triangle": ("triangular", "pyramid", "delta", "three-sided shape", "cone shape", "arrowhead", "cone"),
    "star": ("starfish shape", "pentagram", "asterisk", "sparkle", "twinkle"),
    "heart": ("love symbol", "heart symbol", "hearts", "cardioid"),
}
_EXTRA_MOTIONS = {
    "left": ("leftward", "leftwards", "to the left", "goes left", "shifts left", "westward"),
    "right": ("rightward", "rightwards", "to the right", "goes right", "shifts right", "eastward"),
    "up": ("upward", "upwards", "lifts", "soars", "goes up", "levitates", "skyward"),
    "down": ("downward", "downwards", "plunges", "goes down", "descending", "lowers", "plummets"),
    "grows": ("larger", "bigger", "enlarges", "inflates", "balloons", "scales up", "widens", "puffs up"),
    "shrinks": ("smaller", "tinier", "diminishes", "deflates", "scales down", "narrows", "little by little smaller",
                "shrivels", "withers", "wilts"),
    "still": ("stationary", "motionless", "not move", "unmoving", "static", "stands still", "idle",
              "frozen", "at rest"),
}
_EXTRA_SETTINGS = {
    "day sky": ("daytime", "daylight", "midday", "noon", "blue sky", "sunny sky", "bright sky", "day", "blue skies",
                "clear skies", "sunny skies", "skies"),
    "sunset": ("sundown", "dusk", "twilight", "evening", "sun goes down", "golden hour", "sunrise", "dawn",
               "end of the day", "setting sun"),
    "night sky": ("night", "midnight", "dark sky", "darkness", "starry sky", "after dark", "nighttime",
                  "under the stars", "starlit", "moonlit", "moonlight", "starry skies", "night skies"),
    "meadow": ("field", "grass", "grassy", "pasture", "lawn", "prairie", "hillside", "countryside"),
}
_STOP = frozenset("a an the and of in on at over under above across it is that we see there while with as its to"
                  " into from by this one two some".split())
_SIMILAR_ENOUGH = 0.62  # MiniLM cosine between a prompt phrase and a vocabulary phrase, to count as that word


def _words(text: str) -> list[str]:
    """Lower-case words; a hyphen splits ("leaf-green" reads as "leaf green", as the colour surveys spell it)."""
    return re.findall(r"[a-z]+", text.lower())


def palette_colour(rgb: tuple[float, float, float]) -> str | None:
    """The palette colour a person would call an sRGB colour (0..255), by hue, saturation and value; None for
    greys and black, which the palette lacks. Light, weak reds are pink, as the colour surveys name them."""
    h, sat, val = colorsys.rgb_to_hsv(*(c / 255.0 for c in rgb))
    if sat < 0.15:
        return "white" if val > 0.8 else None
    hue = h * 360
    if hue >= 345 or hue < 15:
        return "pink" if sat < 0.55 and val > 0.8 else "red"
    if hue >= 295:
        return "pink" if hue >= 315 else "purple"
    for colour, top in (("orange", 42), ("yellow", 68), ("green", 170), ("blue", 255), ("purple", 295)):
        if hue < top:
            return colour
    return None


@lru_cache(maxsize=1)
def colour_names() -> dict[str, str]:
    """Every CSS and xkcd colour name (lower case, spaces) -> the palette colour a person would call it."""
    from matplotlib import colors as mcolors  # deferred: matplotlib is slow to import and only the planner needs it

    names = {}
    for table, prefix in ((mcolors.XKCD_COLORS, "xkcd:"), (mcolors.CSS4_COLORS, "")):
        for name, hexcode in table.items():
            words = _words(name.removeprefix(prefix))
            named = [w for w in words if w in world.COLOURS]
            # a name that says its colour ("candy pink", "forest green") means it, whatever its RGB's hue
            nearest = named[-1] if named else palette_colour(tuple(c * 255 for c in mcolors.to_rgb(hexcode)))
            if nearest is not None:
                names[" ".join(words)] = nearest
    for colour, words in world.COLOUR_WORDS.items():  # the world's own words win over the surveys' readings
        for w in words:
            names[w] = colour
    return names


@lru_cache(maxsize=1)
def lexicon() -> list[tuple[tuple[str, ...], str, str]]:
    """(phrase as words, kind, meaning), longest phrase first."""
    out = []
    tables = (("setting", world.SETTING_WORDS, _EXTRA_SETTINGS), ("motion", world.MOTION_WORDS, _EXTRA_MOTIONS),
              ("shape", world.SHAPE_WORDS, _EXTRA_SHAPES), ("camera", world.CAMERA_WORDS, {}))
    for kind, base, extra in tables:
        for meaning in base:
            for phrase in base[meaning] + extra.get(meaning, ()) + ((meaning,) if kind != "camera" else ()):
                if phrase:
                    out.append((tuple(_words(phrase)), kind, meaning))
    for name, colour in colour_names().items():
        if name not in ("sky", "grass", "night", "sun", "sunset", "day"):
            out.append((tuple(_words(name)), "colour", colour))
    out.append((tuple(_words("toward each other")), "toward", "toward"))
    out.append((tuple(_words("towards each other")), "toward", "toward"))
    out.append((tuple(_words("approach each other")), "toward", "toward"))
    return sorted(out, key=lambda e: -len(e[0]))


def _match(words: list[str]) -> list[tuple[int, int, str, str]]:
    """Lexicon hits (start, end, kind, meaning), longest first, not overlapping; camera phrases are read first so
    that 'the camera pans left' is not an object moving left."""
    taken = [False] * len(words)
    hits = []
    entries = sorted(lexicon(), key=lambda e: (e[1] != "camera", -len(e[0])))
    for phrase, kind, meaning in entries:
        n = len(phrase)
        for i in range(len(words) - n + 1):
            if tuple(words[i : i + n]) == phrase and not any(taken[i : i + n]):
                hits.append((i, i + n, kind, meaning))
                for j in range(i, i + n):
                    taken[j] = True
    # the camera's own verb phrases ("the camera zooms in") are camera, whatever else they contain
    return sorted(hits)


def _nearest(phrases: list[str], kind: str) -> list[tuple[str, float]]:
    """For each phrase, the meaning of the most similar vocabulary phrase of `kind` under MiniLM, and the cosine."""
    from . import text as text_mod  # deferred: the encoder loads transformers

    vocab, vocab_emb = _vocabulary(kind)
    sims = text_mod.encode(phrases).pooled @ vocab_emb.T  # (phrases, vocab)
    best = sims.argmax(1)
    return [(vocab[int(j)][1], float(sims[i, j])) for i, j in enumerate(best)]


@lru_cache(maxsize=None)
def _vocabulary(kind: str):
    """The lexicon's phrases of `kind` and their MiniLM vectors, encoded once per process, not per prompt."""
    from . import text as text_mod  # deferred: the encoder loads transformers

    vocab = [(" ".join(p), m) for p, k, m in lexicon() if k == kind]
    return vocab, text_mod.encode([p for p, _ in vocab]).pooled


def _similar(words: list[str], used: set[int], kind: str) -> tuple[int, int, str] | None:
    """The unused phrase of up to three words most similar to a vocabulary phrase of `kind`: (start, end, meaning)."""
    spans = [(i, j) for i in range(len(words)) for j in range(i + 1, min(i + 3, len(words)) + 1)
             if not any(k in used for k in range(i, j)) and not all(w in _STOP for w in words[i:j])]
    if not spans:
        return None
    found = _nearest([" ".join(words[i:j]) for i, j in spans], kind)
    best = max(range(len(spans)), key=lambda k: found[k][1])
    if found[best][1] < _SIMILAR_ENOUGH:
        return None
    return (*spans[best], found[best][0])


def _unknown_nouns(words: list[str], hits: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    """Shapes for the unknown words right after a colour that no shape word follows ("a ruby orb"): in the
    world's grammar the words after a colour name the object, so the nearest shape under MiniLM is taken."""
    starts = {h[0]: h for h in hits}
    used = {k for s, e, _, _ in hits for k in range(s, e)}
    spans = []
    for s, e, kind, _ in hits:
        if kind != "colour" or (e in starts and starts[e][2] == "shape"):
            continue
        j = e
        while j < len(words) and j not in used and words[j] not in _STOP and j - e < 3:
            j += 1
        if j > e:
            spans.append((e, j))
    if not spans:
        return []
    return [(i, j, "shape", m) for (i, j), (m, _) in zip(spans, _nearest([" ".join(words[i:j]) for i, j in spans], "shape"))]


def _colour_nouns(words: list[str], hits: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    """A colour name right after another colour, with no shape word after it, is the object's noun ("a
    salmon-pink brick": brick is also a colour name): read as the nearest shape under MiniLM."""
    starts = {h[0]: h for h in hits}

    def ends_a_noun_phrase(h) -> bool:  # nothing after it but a stop word, another fact or the prompt's end
        return h[1] >= len(words) or words[h[1]] in _STOP or (h[1] in starts and starts[h[1]][2] != "shape")

    swap = [h for h in hits if h[2] == "colour" and any(p[1] == h[0] and p[2] == "colour" for p in hits)
            and ends_a_noun_phrase(h) and not any(w in world.COLOURS for w in words[h[0]:h[1]])]
    if not swap:
        return hits
    shapes = _nearest([" ".join(words[s:e]) for s, e, _, _ in swap], "shape")
    new = {h[:2]: (h[0], h[1], "shape", m) for h, (m, _) in zip(swap, shapes)}
    return [new.get(h[:2], h) for h in hits]


def _motion_of(hits: list[tuple[int, int, str, str]], objects: list[list], i: int) -> str:
    """Object i's motion: the first motion word after its shape word and before the next object's, else the
    first motion word of the prompt ("rising, a red star"), else still."""
    start = objects[i][2]
    stop = objects[i + 1][2] if i + 1 < len(objects) else 1 << 30
    motions = [(s, m) for s, _, k, m in hits if k == "motion"]
    mine = [m for s, m in motions if start < s < stop]
    if mine:
        return mine[0]
    return motions[0][1] if motions else "still"


def plan_scene(prompt: str) -> world.Scene:
    """The scene a prompt describes, in the world's vocabulary (see the module's docstring for how)."""
    words = _words(prompt)
    hits = _colour_nouns(words, _match(words))
    hits += _unknown_nouns(words, hits)
    used = {k for s, e, _, _ in hits for k in range(s, e)}
    if not any(h[2] == "shape" for h in hits):
        found = _similar(words, used, "shape")
        if found is not None:
            hits.append((found[0], found[1], "shape", found[2]))
            used |= set(range(found[0], found[1]))
    if not any(h[2] in ("motion", "toward") for h in hits) and any(h[2] == "shape" for h in hits):
        found = _similar(words, used, "motion")
        if found is not None:
            hits.append((found[0], found[1], "motion", found[2]))
    hits.sort()
    objects, colour, shape_end = [], None, -1  # [colour, shape, position of its shape word]
    for start, end, kind, meaning in hits:
        if kind == "colour":
            colour = meaning
        elif kind == "shape":
            if start == shape_end and colour is None:  # "round disk", "valentine heart": one object, the last word
                objects[-1][1] = meaning
            else:
                objects.append([colour, meaning, start])
            colour, shape_end = None, end
    if colour is not None and objects and objects[-1][0] is None:  # "a star, red" / "a disc that is red"
        objects[-1][0] = colour
    objects = objects[:2]
    things = tuple(world.Thing(c or "white", shape, _motion_of(hits, objects, i)) for i, (c, shape, _) in enumerate(objects))
    if any(k == "toward" for _, _, k, _ in hits) and len(things) == 2:
        things = (world.Thing(things[0].colour, things[0].shape, "right"), world.Thing(things[1].colour, things[1].shape, "left"))
    settings = [m for _, _, k, m in hits if k == "setting"]
    cameras = [m for _, _, k, m in hits if k == "camera"]
    return world.Scene(things, settings[0] if settings else "day sky", cameras[0] if cameras else "static")
