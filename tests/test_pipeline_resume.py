"""Nothing lost: a render killed with SIGKILL at random points resumes to the same bytes; full or
unwritable disks give one-line errors, an intact cache and no partial output.

A tiny storyboard (a 6 s song, five shots of the built-in model on one
continuous camera, 160x90) is rendered once uninterrupted as the reference.
The kill test renders it again in a fresh cache as a subprocess
(`python -m storyreel.cli render`), SIGKILLs it at random moments (after a
random number of takes are in the cache, plus a random delay, so some kills
land mid-generation and some in the encoder) several times, then lets it
finish. Takes finished before a kill must never be made again (their cache
files keep their inode: a regenerated take would be a new file), the last
run's "N takes generated" must count exactly the missing ones, and the MP4
must equal the reference byte for byte.
"""

from __future__ import annotations

import errno
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fakes import make_song
from storyreel import fsio
from storyreel.output import encode
from storyreel.render.cache import TakeCache
from storyreel.cli import app

BOARD = """\
title: Tiny
song: song.wav
output: {size: 160x90, fps: 24}
camera: {move: zoom_in, amount: 0.1, continuous: true}
shots:
  - prompt: "a red star stays still over a meadow"
    length: 2 beats
  - prompt: "a yellow circle moves right in a day sky"
    length: 2 beats
  - prompt: "a blue square moves up at sunset"
    length: 2 beats
  - prompt: "a white heart moves left in the night sky"
    length: 2 beats
  - prompt: "a pink star grows over a meadow"
"""


def _env(tmp: Path) -> dict:
    # one torch thread: the built-in model's float sums depend on the thread count, and runs must agree
    return {**os.environ, "OMP_NUM_THREADS": "1", "XDG_CACHE_HOME": str(tmp / "xdg"),
            "STORYREEL_CACHE": str(tmp / "unused")}


def _cmd(board: Path, out: Path, cache: Path) -> list[str]:
    return [sys.executable, "-m", "storyreel.cli", "render", str(board), "-o", str(out), "--cache-dir", str(cache)]


def _takes(cache: Path) -> dict[str, int]:
    """{take file: inode} of every finished take."""
    out = {}
    for p in cache.glob("*/*.npz"):
        try:
            out[p.name] = p.stat().st_ino
        except FileNotFoundError:
            pass
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny project, its uninterrupted reference render and that render's cache."""
    root = tmp_path_factory.mktemp("tiny")
    make_song(root / "song.wav", 6.0)
    (root / "board.yaml").write_text(BOARD)
    ref = root / "ref" / "ref.mp4"
    proc = subprocess.run(_cmd(root / "board.yaml", ref, root / "ref-cache"), env=_env(root), capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return root, ref, root / "ref-cache"


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume_gives_identical_bytes_and_no_regeneration(tiny, tmp_path):
    root, ref, ref_cache = tiny
    total = len(_takes(ref_cache))
    seed = int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    cache, out = tmp_path / "cache", tmp_path / "out" / "video.mp4"
    kills, finished = 0, {}
    for attempt in range(3):
        have = len(_takes(cache))
        # the first two kills leave takes to make (mid-generation); the last may land in the encoder or the export
        target = rng.randint(have + 1, total - 1) if attempt < 2 and have + 1 <= total - 1 else total
        proc = subprocess.Popen(_cmd(root / "board.yaml", out, cache), env=_env(root),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 300
        while proc.poll() is None and len(_takes(cache)) < target and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.5 if target < total else 1.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
        assert proc.returncode in (0, -signal.SIGKILL), f"seed {seed}: exit {proc.returncode}"
        if out.exists():  # killed after the MP4 was renamed into place (writing the sidecars): it is complete
            assert out.read_bytes() == ref.read_bytes(), f"seed {seed}: a killed render left a partial output"
        for name, inode in _takes(cache).items():  # finished takes are never rewritten
            assert finished.setdefault(name, inode) == inode, f"seed {seed}: take {name} was generated again"
        if proc.returncode == 0:
            break
    assert kills >= 2, f"seed {seed}: the render finished before it could be killed twice"

    before = _takes(cache)
    proc = subprocess.run(_cmd(root / "board.yaml", out, cache), env=_env(root), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    said = re.search(r"(\d+) takes generated, (\d+) from cache", " ".join(proc.stderr.split()))
    assert said, proc.stderr
    assert (int(said[1]), int(said[2])) == (total - len(before), len(before)), f"seed {seed}: {said[0]}"
    after = _takes(cache)
    assert all(after[name] == inode for name, inode in finished.items()), f"seed {seed}: a finished take was regenerated"
    assert set(after) == set(_takes(ref_cache)), f"seed {seed}: different takes from the reference"
    assert out.read_bytes() == ref.read_bytes(), f"seed {seed}: the resumed video differs from the reference"
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == [], f"seed {seed}: partial files left beside the output: {leftovers}"


# ----------------------------------------------------------------------------- full or unwritable disks

runner = CliRunner()


def _render(board: Path, out: Path, cache: Path) -> tuple[int, str]:
    res = runner.invoke(app, ["render", str(board), "-o", str(out), "--cache-dir", str(cache)])
    return res.exit_code, res.output


def _intact(cache: Path) -> int:
    """Every take in the cache reads back with a good checksum; returns how many there are."""
    c = TakeCache(cache)
    keys = [k for k, _, _ in c.entries()]
    assert all(c.get(k) is not None for k in keys)
    return len(keys)


@pytest.fixture()
def project(tiny, tmp_path, monkeypatch):
    root, _, ref_cache = tiny
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / "xdg"))
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the same takes as the subprocess renders
    shutil.copytree(ref_cache, tmp_path / "cache")
    yield root / "board.yaml", tmp_path
    torch.set_num_threads(threads)


def test_disk_full_while_encoding_is_one_line_and_leaves_no_output_and_the_cache_intact(project, monkeypatch):
    board, tmp = project
    real_write = encode._mux

    def full_disk(path, frames, *args):
        with open(path, "wb") as f:
            f.write(b"\0" * 4096)  # some of the video made it to disk
        for _ in range(10):
            next(iter(frames))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(encode, "_mux", full_disk)
    out = tmp / "out" / "video.mp4"
    n = _intact(tmp / "cache")
    code, output = _render(board, out, tmp / "cache")
    assert code == 2, output
    assert "no space left on device" in output and "video.mp4" in output and "Traceback" not in output
    assert len(output.strip().splitlines()[-1:]) == 1 and output.strip().splitlines()[-1].startswith("error:")
    assert not out.exists() and list(out.parent.iterdir()) == []  # no partial file, no temporary either
    assert _intact(tmp / "cache") == n
    monkeypatch.setattr(encode, "_mux", real_write)
    code, output = _render(board, out, tmp / "cache")  # space again: the same command finishes, from the cache
    assert code == 0 and "0 takes generated" in " ".join(output.split()), output


def test_disk_full_while_storing_a_take_names_the_cache_and_keeps_the_others(project, monkeypatch):
    board, tmp = project
    cache = tmp / "cache"
    victim = max(cache.glob("*/*.npz"), key=lambda p: p.stat().st_mtime)  # the last take made: nothing depends on it
    victim.unlink()
    n = _intact(cache)

    def full_disk(self, key, clip, meta=None):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path(key).with_suffix(".tmp")))

    monkeypatch.setattr(TakeCache, "put", full_disk)
    out = tmp / "out" / "video.mp4"
    code, output = _render(board, out, cache)
    assert code == 2 and "no space left on device" in output and str(cache.name) in output, output
    assert "Traceback" not in output and not out.exists()
    assert _intact(cache) == n


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_output_folder_is_one_line(project):
    board, tmp = project
    folder = tmp / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        code, output = _render(board, folder / "video.mp4", tmp / "cache")
    finally:
        folder.chmod(0o700)
    assert code == 2 and "video.mp4" in output and "Traceback" not in output
    assert list(folder.iterdir()) == []


def test_stale_partial_outputs_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    out = tmp_path / "video.mp4"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".video.mp4.{fsio.HOST}-{dead.pid}-abcd.part"
    live = tmp_path / f".video.mp4.{fsio.HOST}-{os.getpid()}-abcd.part"
    stale.write_bytes(b"x")
    live.write_bytes(b"x")
    assert fsio.remove_stale_partials(out) == 1
    assert not stale.exists() and live.exists()

