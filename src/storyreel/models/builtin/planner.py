"""The layout-guided model's planner: a prompt read into a scene of the world (objects, motions, setting, camera).

LVD and VideoDirectorGPT ask a large language model for the scene layout; the
built-in model has only a 22 M-parameter sentence encoder, so it reads the
prompt with a lexicon and falls back on that encoder's similarity:

1. phrases of the world's own vocabulary (world.scene's tables), longest first;
2. a wider English lexicon: the colour names of CSS and of the xkcd colour
   survey (shipped with matplotlib), each mapped to the palette colour a person
   would call its RGB, and common words for the shapes, motions and settings;
   both matched on Snowball stems, so every tense and plural of a phrase counts;
3. for a fact still missing (an object with no shape word, no motion, no
   setting), the phrase of the prompt most similar to a vocabulary phrase under
   MiniLM, if it is similar enough; a prompt with a motion and no shape at all
   takes the word before the motion as the thing that moves.

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

# Words the world's captions never use, for the same facts. Whole words or phrases, matched on word boundaries
# after stemming (so "dive" also reads "dives", "diving" and "dived"). The evaluation's reserved words
# (eval.evaluate.EVAL_*_WORDS) are left out on purpose, so that its new-word scores keep measuring the fallback.
_EXTRA_SHAPES = {
    "circle": ("round", "ring", "sphere", "dot", "disk", "circular shape", "bubble", "moon shape", "oval", "globe",
               "coin", "round thing", "circular", "marble", "pebble", "planet", "wheel", "hoop", "donut", "doughnut",
               "plate", "spot"),
    "square": ("tile", "quadrilateral", "rectangle", "square shape", "four-sided shape", "diamond", "brick", "slab",
               "rectangular", "crate", "dice", "quadrate", "pane", "window", "checker", "card", "rectangular block"),
    "triangle": ("triangular", "pyramid", "delta", "three-sided shape", "cone shape", "arrowhead", "cone", "tent",
                 "prism", "spike", "fin", "pie slice", "slice of pie", "arrow", "mountain shape"),
    "star": ("starfish shape", "pentagram", "asterisk", "sparkle", "twinkle", "starfish", "badge", "snowflake",
             "five-point star"),
    "heart": ("love symbol", "heart symbol", "hearts", "cardioid", "valentine", "sweetheart", "cupid"),
}
_EXTRA_MOTIONS = {
    "left": ("leftward", "leftwards", "to the left", "goes left", "shifts left", "westward", "west", "westwards"),
    "right": ("rightward", "rightwards", "to the right", "goes right", "shifts right", "eastward", "east",
              "eastwards"),
    "up": ("upward", "upwards", "lifts", "soars", "goes up", "levitates", "skyward", "skywards", "rise up",
           "go higher", "higher", "take off", "lift off", "blast off", "rockets", "flies up", "bob up", "jump up",
           "float up", "climb up"),
    "down": ("downward", "downwards", "plunges", "goes down", "descending", "lowers", "plummets", "dive", "tumble",
             "fall down", "sink down", "come down", "slump", "settle", "lower", "downhill", "earthward",
             "to the ground", "toward the ground"),
    "grows": ("larger", "bigger", "enlarges", "inflates", "balloon out", "scales up", "widens", "puffs up", "increase",
              "increase in size", "grow larger", "grow bigger", "get larger", "get huge", "get big", "blow up",
              "magnify"),
    "shrinks": ("smaller", "tinier", "diminishes", "deflates", "scales down", "narrows", "little by little smaller",
                "shrivels", "withers", "wilts", "decrease", "decrease in size", "reduce", "reduce in size",
                "get tiny", "get little", "get small", "wane", "shrink away"),
    "still": ("stationary", "motionless", "not move", "unmoving", "static", "stands still", "idle",
              "frozen", "at rest", "stay put", "hold still", "do nothing", "does nothing", "doesn't move", "don't move",
              "not moving", "stay in place", "stay where it is", "remain in place", "without moving",
              "hover"),
}
_EXTRA_SETTINGS = {
    "day sky": ("daytime", "daylight", "midday", "noon", "blue sky", "sunny sky", "bright sky", "day", "blue skies",
                "clear skies", "sunny skies", "skies", "morning", "afternoon", "sunny", "sunshine", "clear sky",
                "cloudless", "bright day"),
    "sunset": ("sundown", "dusk", "twilight", "evening", "sun goes down", "golden hour", "sunrise", "dawn",
               "end of the day", "setting sun", "sun sets", "sun set", "close of day", "close of the day",
               "day ends", "evening sky", "orange sky", "nightfall", "afterglow"),
    "night sky": ("night", "midnight", "dark sky", "in the darkness", "in darkness", "in the dark", "starry sky", "after dark", "nighttime",
                  "under the stars", "starlit", "moonlit", "moonlight", "starry skies", "night skies", "moon",
                  "dark night"),
    "meadow": ("field", "grass", "grassy", "pasture", "lawn", "prairie", "hillside", "countryside", "hill", "hills",
               "garden", "farmland", "flowery", "flowers"),
}
# Colour words a person uses that neither colour survey names (or names as another hue: cream is yellow there).
_EXTRA_COLOURS = {
    "red": ("cardinal", "garnet", "vermilion", "blood"),
    "orange": ("carrot", "papaya", "copper-orange"),
    "yellow": ("honey", "buttercup", "daffodil"),
    "white": ("cream", "porcelain", "alabaster", "bone", "milky", "milk"),
}
_STOP = frozenset("a an the and of in on at over under above across it is that we see there while with as its to"
                  " into from by this one two some".split())
_SIMILAR_ENOUGH = 0.62  # MiniLM cosine between a prompt phrase and a vocabulary phrase, to count as that word


def _words(text: str) -> list[str]:
    """Lower-case words; a hyphen splits ("leaf-green" reads as "leaf green", as the colour surveys spell it)."""
    return re.findall(r"[a-z]+", text.lower())


@lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer  # deferred: only the planner needs it

    return snowballstemmer.stemmer("english")


def _stems(words: list[str]) -> tuple[str, ...]:
    """The words' Snowball (Porter 2) stems, which the lexicon is matched on: "dives", "diving", "dived" -> "dive"."""
    return tuple(_stemmer().stemWords(words))


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
    for table in (_EXTRA_COLOURS, world.COLOUR_WORDS):  # the world's own words win over the surveys' readings
        for colour, words in table.items():
            for w in words:
                names[" ".join(_words(w))] = colour
    return names


@lru_cache(maxsize=1)
def lexicon() -> list[tuple[tuple[str, ...], str, str]]:
    """(phrase as word stems, kind, meaning), longest phrase first: what prompts are matched against."""
    return sorted(((_stems(list(p)), k, m) for p, k, m in _phrases()), key=lambda e: -len(e[0]))


@lru_cache(maxsize=1)
def _phrases() -> list[tuple[tuple[str, ...], str, str]]:
    """(phrase as words, kind, meaning) for every phrase the planner knows, as written (MiniLM reads these)."""
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
    for phrase in ("toward each other", "towards each other", "approach each other"):
        out.append((tuple(_words(phrase)), "toward", "toward"))
    return out


def _match(words: list[str]) -> list[tuple[int, int, str, str]]:
    """Lexicon hits (start, end, kind, meaning), longest first, not overlapping; camera phrases are read first so
    that 'the camera pans left' is not an object moving left."""
    words = list(_stems(words))
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

    vocab = [(" ".join(p), m) for p, k, m in _phrases() if k == kind]
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


_PARTICLES = frozenset({("up",), ("down",), ("left",), ("right",)})  # "give up", "walks down": not a motion alone
# words between a noun and its motion: light verbs whose phrase the lexicon may not hold ("goes downward") and adverbs
_BEFORE_A_MOTION = frozenset("that which it is are goes go gets get keeps keep becomes become starts begins slowly"
                             " gently quickly then".split())


@lru_cache(maxsize=1)
def _motion_verbs() -> frozenset[str]:
    """Stems that begin the lexicon's motion phrases ("drift" of "drifts up", "come" of "come down"): verbs, so
    never the noun of the thing that moves."""
    not_verbs = _stems(sorted(_STOP | {"not", "without", "little", "balloon"}))  # "a red balloon floats up"
    return frozenset(p[0] for p, k, _ in lexicon() if k == "motion" and len(p) > 1) - set(not_verbs)


def _subject_of_motion(words: list[str], hits: list[tuple[int, int, str, str]], used: set[int]):
    """For a prompt with a motion but no shape ("a gizmo floats up", "a pearl cube stays still"): the noun of the
    noun phrase (a determiner, at most one word, the noun) just before the first motion names the thing, read as
    its nearest shape under MiniLM however weakly, so the model still draws a thing that moves as told rather
    than no layout. A bare up/down/left/right is a verb's particle ("we never give up", "walks down the road"),
    not a motion. (start, end, shape) or None."""
    stems = _stems(words)
    first = min((s for s, e, k, _ in hits if k == "motion" and stems[s:e] not in _PARTICLES), default=None)
    if first is None:
        return None
    i = first - 1
    while i >= 0 and (words[i] in _BEFORE_A_MOTION or stems[i] in _motion_verbs()):
        i -= 1
    if i < 1 or i in used or words[i] in _STOP or words[i] in ("camera", "shot", "view", "scene"):
        return None
    if not any(words[j] in ("a", "an", "the", "one", "some") for j in range(max(0, i - 3), i)):
        return None
    return i, i + 1, _nearest([words[i]], "shape")[0][0]


@lru_cache(maxsize=4096)  # the studio asks again on every edit; scenes are frozen, so sharing one is safe
def plan_scene(prompt: str) -> world.Scene:
    """The scene a prompt describes, in the world's vocabulary (see the module's docstring for how)."""
    words = _words(prompt)
    hits = _colour_nouns(words, _match(words))
    hits += _unknown_nouns(words, hits)
    used = {k for s, e, _, _ in hits for k in range(s, e)}
    if not any(h[2] == "shape" for h in hits):
        found = _similar(words, used, "shape") or _subject_of_motion(words, hits, used)
        if found is not None:
            hits.append((found[0], found[1], "shape", found[2]))
            used |= set(range(found[0], found[1]))
    if not any(h[2] in ("motion", "toward") for h in hits) and any(h[2] == "shape" for h in hits):
        found = _similar(words, used, "motion")
        if found is not None:
            hits.append((found[0], found[1], "motion", found[2]))
    hits.sort()
    objects, colour, shape_end, shaped = [], None, -1, False  # [colour, shape, position of its shape word]
    for start, end, kind, meaning in hits:
        if kind == "colour":
            colour = meaning
        elif kind == "shape":
            if start == shape_end and colour is None:  # "round disk", "valentine heart": one object, the last word
                if not shaped:  # "a heart-shaped box" is a heart
                    objects[-1][1] = meaning
            else:
                objects.append([colour, meaning, start])
            shaped = end < len(words) and words[end] == "shaped"
            colour, shape_end = None, end + shaped
    if colour is not None and objects and objects[-1][0] is None:  # "a star, red" / "a disc that is red"
        objects[-1][0] = colour
    objects = objects[:2]
    things = tuple(world.Thing(c or "white", shape, _motion_of(hits, objects, i)) for i, (c, shape, _) in enumerate(objects))
    if any(k == "toward" for _, _, k, _ in hits) and len(things) == 2:
        things = (world.Thing(things[0].colour, things[0].shape, "right"), world.Thing(things[1].colour, things[1].shape, "left"))
    settings = [m for _, _, k, m in hits if k == "setting"]
    cameras = [m for _, _, k, m in hits if k == "camera"]
    return world.Scene(things, settings[0] if settings else "day sky", cameras[0] if cameras else "static")
