"""Whole-storyboard rules beyond the schema: shots or sections, character names and references, file paths."""

from __future__ import annotations

from pathlib import PurePath
from typing import Optional

from .schema import Storyboard
from .values import NAME_RE, referenced_names
from .source import show


def check_storyboard(sb: Storyboard, *, sandbox: bool, check_files: bool) -> None:
    """Whole-storyboard rules: shots xor sections, names, references, paths."""
    if sb.shots is not None and sb.sections is not None:
        raise sb.error(("sections",), "use either `shots` or `sections`, not both")
    if sb.shots is None and sb.sections is None:
        for key in ("shots", "sections"):
            if key in sb.model_fields_set:  # written but left empty (`shots:` with nothing under it)
                raise sb.error((key,), f"`{key}` is empty")
        raise sb.error((), "the storyboard has no story: add `shots` (a list of prompts) or `sections`")
    if sb.shots is not None and not sb.shots:
        raise sb.error(("shots",), "the list of shots is empty")
    if sb.sections is not None and not sb.sections:
        raise sb.error(("sections",), "the list of sections is empty")
    if sb.model_options is not None and sb.diffusers is not None:
        raise sb.error(("diffusers",), "use `model_options` only (`diffusers` is its deprecated old name)")
    _check_names(sb)
    _check_references(sb)
    _check_path(sb, ("song",), None if sb.is_demo_song else sb.song, sandbox, check_files, "song")
    for name, c in sb.characters.items():
        _check_path(sb, ("characters", name, "image"), c.image, sandbox, check_files, "image")
    if sb.grade is not None:
        if sb.grade.match == "reference" and not sb.grade.reference:
            raise sb.error(("grade",), "`match: reference` needs a `reference:` image to match")
        if sb.grade.match != "reference" and sb.grade.reference:
            raise sb.error(("grade", "reference"), "a reference image is only used with `match: reference`")
        _check_path(sb, ("grade", "reference"), sb.grade.reference, sandbox, check_files, "image")


def _check_names(sb: Storyboard) -> None:
    for name in sb.characters:
        if not NAME_RE.match(name):
            raise sb.error(("characters", name),
                           f'"{name}" is not a usable name; use letters, digits and _ (it is written {{{name}}} in prompts)')


def _texts(sb: Storyboard) -> list[tuple[tuple[str | int, ...], str]]:
    """Every text that may reference characters, with its location."""
    out: list[tuple[tuple[str | int, ...], str]] = [(("style",), sb.style), (("negative",), sb.negative)]
    out += [(("timeline", i, "era"), k.era) for i, k in enumerate(sb.timeline)]
    for i, shot in enumerate(sb.shots or []):
        out.append((("shots", i, "prompt"), shot.prompt))
    for i, section in enumerate(sb.sections or []):
        if section.era:
            out.append((("sections", i, "era"), section.era))
        out += [(("sections", i, "shots", j, "prompt"), s.prompt) for j, s in enumerate(section.shots)]
    return out


def _check_references(sb: Storyboard) -> None:
    """Every `{name}` must be a defined character."""
    for loc, text in _texts(sb):
        for name in referenced_names(text):
            if name not in sb.characters:
                defined = ", ".join(sb.characters) or "none are defined"
                raise sb.error(loc, f'{{{name}}} is not a character (characters: {defined})')


def _check_path(sb: Storyboard, loc: tuple, value: Optional[str], sandbox: bool, check_files: bool, what: str) -> None:
    """Sandbox rules (no absolute paths, no ..) and existence for a path in the storyboard."""
    if not value:
        return
    if any(ord(c) < 32 for c in value):
        raise sb.error(loc, f"{show(value)} contains control characters; is this a path?")
    p = PurePath(value)
    if sandbox and (p.is_absolute() or ".." in p.parts or value.startswith("~")):
        raise sb.error(loc, f'"{value}": in sandbox mode the {what} must be a path inside the storyboard\'s folder')
    resolved = (sb.base_dir / value).resolve()
    if sandbox and not resolved.is_relative_to(sb.base_dir.resolve()):
        raise sb.error(loc, f'"{value}" leads outside the storyboard\'s folder, which sandbox mode refuses')
    if check_files and not resolved.is_file():
        demo = " (or `demo` for the bundled demo song)" if what == "song" else ""
        raise sb.error(loc, f'{what} file "{value}" not found (looked for {resolved}){demo}')
