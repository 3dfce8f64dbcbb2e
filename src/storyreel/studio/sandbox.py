"""Which files a request may touch: only inside the storyboard's folder and storyreel's take cache.

A request names a file relative to one of those roots. `..`, an absolute path,
a drive or a symlink that leads out of the root is refused (`Forbidden`,
answered 403), so a page, or anything else that got hold of the token, cannot
read or write elsewhere on the machine.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath


class Forbidden(Exception):
    """A path outside the studio's roots (answered 403)."""


class Sandbox:
    """Named roots (e.g. "project", "cache"); `resolve(root, rel)` is the one way a request reaches a file."""

    def __init__(self, roots: dict[str, Path]):
        self.roots = {name: Path(p).resolve() for name, p in roots.items()}

    def resolve(self, root: str, rel: str) -> Path:
        """The real path of `rel` under the named root; Forbidden if it escapes (even through a symlink)."""
        base = self.roots.get(root)
        if base is None:
            raise Forbidden(f"no such root: {root}")
        if not rel or "\\" in rel or "\x00" in rel or ":" in rel:
            raise Forbidden(f"not a relative path: {rel!r}")
        parts = PurePosixPath(rel)
        if parts.is_absolute() or any(p == ".." for p in parts.parts):
            raise Forbidden(f"a path must stay inside the {root} folder: {rel}")
        target = (base / parts).resolve()  # follows symlinks: a link out of the root is caught here
        if not target.is_relative_to(base):
            raise Forbidden(f"{rel} leads outside the {root} folder")
        return target

    def contains(self, path: Path) -> bool:
        """Whether an absolute path (symlinks followed) lies inside one of the roots."""
        real = Path(path).resolve()
        return any(real.is_relative_to(base) for base in self.roots.values())
