"""Files on disk: the one atomic write, storage errors in one line, and every side-file name of OUT.mp4.

Atomic write: a file is written under a hidden temporary name in its own
folder (same filesystem, so the rename is atomic) and renamed over the
destination only when complete. Readers never see a half-written file, a
crash leaves the old file (or none), and the temporary is deleted on any
error, Ctrl-C included. Temporary names carry this host and process id,
`.NAME.HOST-PID-RANDOM.part`, so `remove_stale_partials` can tell a killed
writer's leftovers from a live writer's file.

Storage failures (disk full, quota, read-only, no permission, file too big)
are the machine's, not the input's: `storage_error` turns them into a
one-line StoryreelError naming the file, and everything above it can say
"nothing was lost" because every write went through `atomic_path`.
"""

from __future__ import annotations

import errno
import functools
import glob
import os
import secrets
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .errors import StoryreelError

HOST = "".join(c for c in socket.gethostname() if c.isalnum())[:32] or "host"
STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}
PARTIAL_GLOB = ".*.part"  # what a temporary of atomic_path looks like, for cleaners

F = TypeVar("F", bound=Callable)


# ----------------------------------------------------------------------------- atomic writes


def temp_path(path: Path) -> Path:
    """Create a fresh hidden file next to `path` (mode 0666 minus the umask, like any output) and return it."""
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{HOST}-{os.getpid()}-{secrets.token_hex(4)}.part"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue
    raise StoryreelError("cannot create a temporary file next to the output", file=str(path))


@contextmanager
def atomic_path(path: str | os.PathLike, *, durable: bool = False) -> Iterator[Path]:
    """A temporary file next to `path`, renamed over `path` when the block succeeds, deleted when it fails.

    durable: fsync the file before the rename (the take cache: a take that
    was reported stored must survive a power cut).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        yield tmp
        if durable:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: str | os.PathLike, data: bytes | str, *, durable: bool = False) -> Path:
    """Write `data` (text as UTF-8) to `path` atomically; any failure to write is a StoryreelError naming `path`."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with atomic_path(path, durable=durable) as tmp:
            tmp.write_bytes(payload)
    except OSError as e:
        raise (storage_error(e, path) or StoryreelError(f"cannot write the file ({e.strerror or e})", file=str(path))) \
            from None
    return path


def remove_stale_partials(path: str | os.PathLike) -> int:
    """Delete temporaries next to `path` left by writers on this host whose process is gone (killed, kill -9).

    A live writer's file is left alone. Returns how many were removed.
    """
    path = Path(path)
    prefix = f".{path.name}.{HOST}-"
    removed = 0
    for tmp in path.parent.glob(f"{glob.escape(prefix)}*.part"):
        try:
            os.kill(int(tmp.name[len(prefix):].split("-")[0]), 0)
        except ProcessLookupError:
            tmp.unlink(missing_ok=True)
            removed += 1
        except (ValueError, PermissionError, OSError):
            pass  # not ours to judge, or alive under another user
    return removed


# ----------------------------------------------------------------------------- storage errors


def storage_error(e: BaseException, path: str | os.PathLike | None = None) -> StoryreelError | None:
    """A one-line StoryreelError for a storage failure (naming `path`, else the file the OS named), or None."""
    if not isinstance(e, OSError) or e.errno not in STORAGE_ERRNOS:
        return None
    what = (e.strerror or os.strerror(e.errno)).lower()
    hint = "; free some space and run the command again" if e.errno in {errno.ENOSPC, errno.EDQUOT, errno.EFBIG} else ""
    return StoryreelError(f"{what}{hint}", file=str(path if path is not None else (e.filename or "output")))


@contextmanager
def storage_errors(path: str | os.PathLike | None = None) -> Iterator[None]:
    """Inside the block, a storage failure becomes storage_error(e, path); other errors pass unchanged."""
    try:
        yield
    except OSError as e:
        err = storage_error(e, path)
        if err is None:
            raise
        raise err from None


def with_storage_errors(fn: F) -> F:
    """`fn` with storage failures anywhere inside it as one-line StoryreelErrors naming the file the OS named."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with storage_errors():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def check_writable(out_path: str | os.PathLike) -> Path:
    """Make sure `out_path` can be written (creating its folder); raise StoryreelError naming it if not.

    Called before heavy work, so a typo in -o fails in a second, not after the render.
    """
    path = Path(out_path)
    if path.is_dir():
        raise StoryreelError("the output path is a folder; give a file name", file=str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp_path(path).unlink()
    except OSError as e:
        raise StoryreelError(f"cannot write the output here ({e.strerror or e})", file=str(path)) from None
    return path


# ----------------------------------------------------------------------------- the names beside OUT.mp4


@dataclass(frozen=True)
class Outputs:
    """Every file a render writes, named from OUT.mp4 in one place."""

    video: Path

    @classmethod
    def of(cls, video: str | os.PathLike) -> "Outputs":
        return cls(Path(video))

    def beside(self, suffix: str) -> Path:
        """OUT.mp4 -> OUT<suffix> in the same folder."""
        return self.video.with_name(self.video.stem + suffix)

    @property
    def plan(self) -> Path:
        return self.beside(".plan.json")

    @property
    def otio(self) -> Path:
        return self.beside(".otio")

    @property
    def contact_sheet(self) -> Path:
        return self.beside(".contact.png")

    @property
    def manifest(self) -> Path:
        return self.beside(".manifest.json")

    @property
    def shots_folder(self) -> Path:
        return self.beside(".shots")

    def shot_files(self, n: int) -> list[Path]:
        """OUT.shots/shot_01.mp4 ... (zero-padded to the number of shots, at least 2 digits)."""
        digits = max(2, len(str(n)))
        return [self.shots_folder / f"shot_{i + 1:0{digits}d}.mp4" for i in range(n)]
