"""The storyboard format: valid files load; every user mistake is one StoryreelError naming file, line, field."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes import make_music_map
from storyreel.errors import StoryreelError, StoryreelWarning
from storyreel.plan import make_plan
from storyreel.storyboard import (
    Length,
    Storyboard,
    load_storyboard,
    parse_length,
    parse_storyboard,
    referenced_names,
    storyboard_hash,
    substitute,
)

VALID = """\
title: Test
song: demo
seed: 3
takes: 2
output: {size: 640x360, fps: 12}
style: soft light
negative: blurry
characters:
  she: a pink heart
  he: {description: a blue circle, image: he.png}
camera: {move: Zoom In, continuous: true}
pacing: fast
transition: crossfade
timeline:
  - {at: 0, era: over a meadow}
  - {at: chorus, era: at sunset}
shots:
  - prompt: "{she} moves right"
    length: 2 bars
  - "{he} grows"
  - prompt: "{she} and {he} drift toward each other"
    length: 3.5s
    camera: pan_left
    transition: {kind: zoom_through, beats: 2}
    seed: 9
"""


def write(tmp_path: Path, text: str, name: str = "storyboard.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def load_error(tmp_path: Path, text: str, **kwargs) -> StoryreelError:
    path = write(tmp_path, text)
    with pytest.raises(StoryreelError) as info:
        load_storyboard(path, check_files=False, **kwargs)
    err = info.value
    assert err.file == str(path)
    return err


def test_valid_storyboard_loads_with_shorthands_normalised(tmp_path: Path) -> None:
    (tmp_path / "he.png").write_bytes(b"png")
    sb = load_storyboard(write(tmp_path, VALID))
    assert (sb.title, sb.seed, sb.takes, sb.pacing) == ("Test", 3, 2, "fast")
    assert (sb.output.width, sb.output.height, sb.output.fps) == (640, 360, 12)
    assert sb.characters["she"].description == "a pink heart"
    assert sb.resolve_image("he") == (tmp_path / "he.png").resolve()
    assert sb.camera.move == "zoom_in" and sb.camera.continuous
    assert sb.transition.kind == "crossfade" and sb.transition.length_beats == 1.0
    assert sb.shots is not None and sb.shots[1].prompt == "{he} grows"
    assert sb.shots[0].parsed_length == Length(2, "bars")
    assert sb.shots[2].camera is not None and sb.shots[2].camera.move == "pan_left"
    assert sb.timeline[1].at == "chorus"
    assert sb.is_demo_song and sb.resolve_song_path() is None


def test_defaults(tmp_path: Path) -> None:
    sb = load_storyboard(write(tmp_path, "song: demo\nshots: [a red circle]\n"))
    assert (sb.model, sb.seed, sb.takes, sb.pacing) == ("builtin", 0, 1, "auto")
    assert (sb.output.size, sb.output.fps) == ("1280x720", 24)
    assert sb.camera.move == "static" and sb.transition.kind == "cut"


@pytest.mark.parametrize(
    "text, line, field, words",
    [
        ("song: demo\ntitel: x\nshots: [a]\n", 2, "titel", 'unknown key; did you mean "title"?'),
        ("song: demo\nshots:\n  - prompt: a\n    lenght: 2 bars\n", 4, "shots[0].lenght", 'did you mean "length"'),
        ("song: demo\nshots:\n  - a\n  - b\n  - c\n  - prompt: d\n    length: 2 barz\n", 7, "shots[3].length",
         '"2 barz" is not a length; use "2 bars", "4 beats" or "3.5s"'),
        ("song: demo\nshots:\n  - prompt: a\n    length: 2\n", 4, "shots[0].length", "2 has no unit"),
        ("song: demo\nshots:\n  - prompt: a\n    length: 0 bars\n", 4, "shots[0].length", "more than zero"),
        ("song: demo\ntakes: two\nshots: [a]\n", 2, "takes", 'expected a whole number, got "two"'),
        ("song: demo\ntakes: 0\nshots: [a]\n", 2, "takes", "out of range"),
        ("song: demo\ncamera: spin\nshots: [a]\n", 2, "camera", '"spin" is not a camera move'),
        ("song: demo\ncamera: {move: zoom_in, amout: 1}\nshots: [a]\n", 2, "camera.amout", "unknown key"),
        ("song: demo\noutput: {size: 1281x720}\nshots: [a]\n", 2, "output.size", "even"),
        ("song: demo\noutput: {size: big}\nshots: [a]\n", 2, "output.size", "WIDTHxHEIGHT"),
        ("song: demo\npacing: frantic\nshots: [a]\n", 2, "pacing", "use one of: auto, slow, normal, fast"),
        ("song: demo\ntransition: wipe\nshots: [a]\n", 2, "transition", '"wipe" is not a transition'),
        ("song: demo\ncharacters: {she: a pink heart}\nshots:\n  - a\n  - \"{her} grows\"\n", 5, "shots[1].prompt",
         "{her} is not a character (characters: she)"),
        ("song: demo\nstyle: \"{x} look\"\nshots: [a]\n", 2, "style", "{x} is not a character"),
        ("song: demo\ncharacters:\n  my hero: a red star\nshots: [a]\n", 3, "characters.my hero", "not a usable name"),
        ("song: demo\nshots: [a]\nsections:\n  - shots: [b]\n", 3, "sections", "either `shots` or `sections`"),
        ("title: x\nsong: demo\n", 1, None, "no story"),
        ("song: demo\nshots:\n  - length: 1 bar\n", 3, "shots[0].prompt", "is required"),
        ("song: demo\nshots:\n  - 3\n", 3, "shots[0]", "expected a mapping"),
        ("title: 5\nsong: demo\nshots: [a]\n", 1, "title", "put it in quotes"),
        ("song: demo\nsong: x.wav\nshots: [a]\n", 2, None, 'duplicate key "song" (first on line 1)'),
        ("song: demo\nshots: [a\ntitle: x\n", 3, None, "invalid YAML"),
        ("song: demo\nshots:\n  - a\n  b: c\n", 4, None, "invalid YAML"),
        ("song: demo\n\tshots: [a]\n", 2, None, "found character '\\t'"),
        ("- a\n- b\n", 1, None, "is a list"),
        ("", 1, None, "empty"),
        ("song: demo\ntimeline: [{at: 2, era: x}]\nshots: [a]\n", 2, "timeline[0].at", "outside 0..1"),
        ("song: demo\nsections:\n  - section: 0\n    shots: [a]\n", 3, "sections[0].section", "first section is 1"),
        ("song: demo\nsections:\n  - shots: []\n", 3, "sections[0].shots", "must not be empty"),
        ("song: demo\ncharacters: {1: a}\nshots: [a]\n", 2, "characters", "the key 1 must be text"),
        ("song: demo\nshots: [a]\nseed: -1\n", 3, "seed", "out of range"),
        ("song: \"x\\0.wav\"\nshots: [a]\n", 1, "song", "control characters"),
        ("song: demo\nshots:\n", 2, "shots", "`shots` is empty"),
    ],
)
def test_errors_name_file_line_and_field(tmp_path: Path, text: str, line: int, field: str | None, words: str) -> None:
    err = load_error(tmp_path, text)
    assert err.line == line, err.format()
    assert err.field == field, err.format()
    assert words in err.message, err.format()
    prefix = f"{tmp_path / 'storyboard.yaml'}:{line}: " + (f"{field}: " if field else "")
    assert str(err).startswith(prefix)
    assert "\n" not in str(err)


def test_several_problems_report_the_first_and_count_the_rest(tmp_path: Path) -> None:
    err = load_error(tmp_path, "song: demo\ntakes: x\nseed: y\nshots: [a]\n")
    assert err.line == 2 and "(and 1 more problem)" in err.message


@pytest.mark.parametrize(
    "text, length",
    [("2 bars", Length(2, "bars")), ("1 bar", Length(1, "bars")), ("4 beats", Length(4, "beats")),
     ("1 beat", Length(1, "beats")), ("3.5s", Length(3.5, "seconds")), ("3.5 seconds", Length(3.5, "seconds")),
     ("0.5 Bars", Length(0.5, "bars")), (" 2 sec ", Length(2, "seconds"))],
)
def test_lengths_parse(text: str, length: Length) -> None:
    assert parse_length(text) == length
    assert parse_length(str(length)) == length  # canonical text round-trips


@pytest.mark.parametrize("text", ["2", "bars", "2 barz", "-1 bars", "2 minutes", "", "two bars", "1e3 s"])
def test_bad_lengths_raise_value_error_with_hint(text: str) -> None:
    with pytest.raises(ValueError):
        parse_length(text)


def test_character_substitution_and_escapes() -> None:
    values = {"she": "a pink heart", "he": "a blue circle"}
    assert substitute("{she} and { he } drift", values) == "a pink heart and a blue circle drift"
    assert substitute("{{literal}} {she}", values) == "{literal} a pink heart"
    assert referenced_names("{{x}} {she} {he}{she}") == ["she", "he", "she"]
    with pytest.raises(KeyError):
        substitute("{nobody}", values)


def test_sections_storyboard_checks_references_in_eras(tmp_path: Path) -> None:
    err = load_error(tmp_path, "song: demo\nsections:\n  - era: \"{ghost}\"\n    shots: [a]\n")
    assert (err.line, err.field) == (3, "sections[0].era")


def test_missing_song_file_is_an_error_at_the_song_line(tmp_path: Path) -> None:
    path = write(tmp_path, "title: x\nsong: nowhere.wav\nshots: [a]\n")
    with pytest.raises(StoryreelError) as info:
        load_storyboard(path)
    assert (info.value.line, info.value.field) == (2, "song") and "not found" in info.value.message


def test_relative_song_resolves_against_the_storyboard_folder(tmp_path: Path) -> None:
    (tmp_path / "music").mkdir()
    (tmp_path / "music" / "song.wav").write_bytes(b"RIFF")
    sb = load_storyboard(write(tmp_path, "song: music/song.wav\nshots: [a]\n"))
    assert sb.resolve_song_path() == (tmp_path / "music" / "song.wav").resolve()
    assert sb.path == tmp_path / "storyboard.yaml"


@pytest.mark.parametrize("song", ["../song.wav", "/etc/passwd", "music/../../song.wav", "~/song.wav"])
def test_sandbox_refuses_paths_leaving_the_folder(tmp_path: Path, song: str) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    (tmp_path / "song.wav").write_bytes(b"RIFF")
    path = write(inner, f"song: {song}\nshots: [a]\n")
    with pytest.raises(StoryreelError) as info:
        load_storyboard(path, sandbox=True, check_files=False)
    assert (info.value.line, info.value.field) == (1, "song") and "sandbox" in info.value.message


def test_sandbox_refuses_character_images_outside(tmp_path: Path) -> None:
    text = "song: demo\ncharacters:\n  she: {description: a pink heart, image: ../she.png}\nshots: [a]\n"
    err = load_error(tmp_path, text, sandbox=True)
    assert (err.line, err.field) == (3, "characters.she.image")


def test_without_sandbox_parent_paths_are_allowed(tmp_path: Path) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    (tmp_path / "song.wav").write_bytes(b"RIFF")
    sb = load_storyboard(write(inner, "song: ../song.wav\nshots: [a]\n"))
    assert sb.resolve_song_path() == (tmp_path / "song.wav").resolve()


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(StoryreelError, match="no such storyboard file"):
        load_storyboard(tmp_path / "missing.yaml")
    with pytest.raises(StoryreelError, match="is a directory"):
        load_storyboard(tmp_path)
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"song: demo\ntitle: caf\xe9\n")
    with pytest.raises(StoryreelError) as info:
        load_storyboard(bad)
    assert info.value.line == 2 and "UTF-8" in info.value.message


def test_alias_bombs_and_self_references_are_refused() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n" for i in range(6))
    with pytest.raises(StoryreelError, match="too many items"):
        parse_storyboard(bomb)
    with pytest.raises(StoryreelError):
        parse_storyboard("song: demo\nshots: &s [*s]\n")


def test_storyboard_hash_follows_meaning_not_formatting(tmp_path: Path) -> None:
    a = parse_storyboard("song: demo\nshots: [a red circle]\n")
    b = parse_storyboard("# a comment\nsong: demo\nshots:\n  - prompt: a red circle\n")
    c = parse_storyboard("song: demo\nshots: [a blue circle]\n")
    assert storyboard_hash(a) == storyboard_hash(b) != storyboard_hash(c)
    assert len(storyboard_hash(a)) == 16


def test_programmatic_storyboard_errors_have_no_file() -> None:
    sb = Storyboard(song="demo", shots=[{"prompt": "a"}])  # type: ignore[list-item]
    err = sb.error(("shots", 0, "length"), "too long")
    assert str(err) == "shots[0].length: too long"


# Fuzzing: whatever the text, the loader (and the planner after it) raise only StoryreelError ----


# ---------------------------------------------------------------- backend options: model_options, and `diffusers:` as its old name


def test_model_options_are_the_backends_options(tmp_path: Path) -> None:
    sb = parse_storyboard("song: demo\nmodel: ltx-video\nmodel_options: {dtype: fp16, vae_tiling: true}\nshots: [a]\n")
    assert sb.backend_options == {"dtype": "fp16", "vae_tiling": True} and sb.options_key == "model_options"


def test_diffusers_key_still_works_and_warns_once_in_one_line(tmp_path: Path) -> None:
    text = "song: demo\nmodel: ltx-video\ndiffusers:\n  dtype: fp16\nshots: [a]\n"
    with pytest.warns(StoryreelWarning) as caught:
        sb = parse_storyboard(text, path=tmp_path / "sb.yaml")
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "\n" not in message and message.startswith(f"{tmp_path / 'sb.yaml'}:3: diffusers: is deprecated")
    assert "model_options" in message
    assert sb.backend_options == {"dtype": "fp16"} and sb.options_key == "diffusers"


def test_model_options_and_diffusers_together_is_an_error(tmp_path: Path) -> None:
    text = "song: demo\nmodel_options: {dtype: fp16}\ndiffusers: {dtype: bf16}\nshots: [a]\n"
    with pytest.raises(StoryreelError) as info:
        parse_storyboard(text, path=tmp_path / "sb.yaml")
    assert (info.value.line, info.value.field) == (3, "diffusers") and "model_options" in info.value.message


def test_unset_model_options_leave_the_storyboard_hash_as_before() -> None:
    """The key is newer than the storyboards already rendered: their hashes (in MP4 tags and manifests) stay."""
    sb = parse_storyboard("song: demo\nshots: [a]\n")
    assert "model_options" in sb.model_dump() and storyboard_hash(sb) == "e115c69fed39f824"  # as computed before the key existed

FUZZ_MAP = make_music_map(120, sections=[("intro", 2), ("chorus", 4)])
SEED_TEXTS = [VALID.replace("image: he.png", "image: null"),
              "song: demo\nsections:\n  - section: chorus\n    era: x\n    shots:\n"
              "      - a\n      - {prompt: b, length: 4 beats}\n",
              "song: demo\ntimeline: [{at: 0.5, era: y}]\nshots: [a, b, c]\n"]
YAMLISH = st.sampled_from(list(":-[]{}#&*!|>'\"%@`,?\n \t0123456789.\\") + [
    "song", "shots", "sections", "length", "bars", "beats", "s", "prompt", "camera", "zoom_in", "{she}", "demo",
    "  ", "- ", ": ", "\n  ", "null", "true", "1e9", "-1", "&a", "*a", "<<", "!!python/object", "~", "..", "/",
    "\\0", "\\x00", "\\u2028", "\ufeff", "é"])


def _load_and_plan(text: str) -> None:
    try:
        sb = parse_storyboard(text, path="fuzz.yaml", sandbox=True)
        make_plan(sb, FUZZ_MAP)
    except StoryreelError as e:
        assert str(e) and "\n" not in e.message


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(YAMLISH, max_size=40).map("".join))
def test_fuzz_yamlish_text_raises_only_storyreel_errors(text: str) -> None:
    _load_and_plan(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEED_TEXTS), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 3), YAMLISH),
                                             min_size=1, max_size=4))
def test_fuzz_mutated_storyboards_raise_only_storyreel_errors(base: str, edits: list) -> None:
    text = base
    for pos, op, piece in edits:
        i = pos % (len(text) + 1)
        if op == 0:
            text = text[:i] + piece + text[i:]
        elif op == 1:
            text = text[:i] + text[i + len(piece):]
        elif op == 2:
            text = text[:i] + piece + text[i + len(piece):]
        else:
            lines = text.splitlines(keepends=True)
            if lines:
                del lines[pos % len(lines)]
            text = "".join(lines)
    _load_and_plan(text)


def test_a_length_error_stays_on_one_line_whatever_the_text_holds() -> None:
    from storyreel.storyboard.values import parse_length

    for text in ("0 bars\n", "two\nbars", "0\r\nbeats\n"):
        try:
            parse_length(text)
        except ValueError as e:
            assert "\n" not in str(e) and "\r" not in str(e)
        else:  # pragma: no cover - each of these is refused
            raise AssertionError(f"{text!r} was accepted")
