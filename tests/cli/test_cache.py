"""`storyreel cache ls|du|gc`: list, size and trim the take cache from the command line."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from storyreel.fsio import HOST
from storyreel.render.cache import TakeCache
from storyreel.cli import app
from storyreel.models.base import Clip

runner = CliRunner()


def _invoke(*args):
    res = runner.invoke(app, [str(a) for a in args])
    return res.exit_code, res.output


@pytest.fixture()
def cache(tmp_path):
    """Three takes used 300, 200 and 100 seconds ago, and two unfinished writes (one old, one in progress)."""
    c = TakeCache(tmp_path / "takes")
    now = time.time()
    for i, key in enumerate(["aa" + "0" * 30, "bb" + "1" * 30, "cc" + "2" * 30]):
        frames = np.full((4, 8, 16, 3), 40 * i, np.uint8)
        p = c.put(key, Clip(frames, 8.0, None, {"model": "builtin"}), {"shot": i, "take": 0, "prompt": f"prompt {i}", "seed": 100 + i})
        os.utime(p, (now - 300 + 100 * i, now - 300 + 100 * i))
    old = c.root / "aa" / f".dead.npz.{HOST}-1-0000.part"  # as fsio.atomic_path names a temporary
    old.write_bytes(b"x" * 100)
    os.utime(old, (now - 3600, now - 3600))
    (c.root / "bb" / f".live.npz.{HOST}-2-0000.part").write_bytes(b"y" * 10)
    return c


def test_ls_lists_takes_newest_use_first_with_their_shot_and_prompt(cache):
    code, output = _invoke("cache", "ls", "--cache-dir", cache.root, "--json")
    assert code == 0, output
    rows = json.loads(output)
    assert [r["key"][:2] for r in rows] == ["cc", "bb", "aa"]
    assert rows[0]["prompt"] == "prompt 2" and rows[0]["shot"] == 2 and rows[0]["frames"] == 4 and rows[0]["size"] == "16x8"
    code, output = _invoke("cache", "ls", "--cache-dir", cache.root, "--limit", "2")
    assert code == 0 and "prompt 2" in output and "prompt 1" in output and "prompt 0" not in output


def test_ls_marks_a_corrupt_take(cache):
    path = cache.path("bb" + "1" * 30)
    path.write_bytes(path.read_bytes()[:50])
    code, output = _invoke("cache", "ls", "--cache-dir", cache.root, "--json")
    assert code == 0 and {r["key"][:2]: r.get("corrupt", False) for r in json.loads(output)} == {"aa": False, "bb": True, "cc": False}


def test_du_adds_up_takes_and_unfinished_writes(cache):
    code, output = _invoke("cache", "du", "--cache-dir", cache.root, "--json")
    assert code == 0, output
    u = json.loads(output)
    assert u["takes"] == 3 and u["bytes"] == sum(e[1] for e in cache.entries())
    assert (u["leftover_files"], u["leftover_bytes"]) == (2, 110)
    code, output = _invoke("cache", "du", "--cache-dir", cache.root)
    assert code == 0 and "3 takes" in output and "unfinished writes" in output


def test_gc_keeps_the_most_recently_used_and_removes_dead_writers_leftovers(cache):
    code, output = _invoke("cache", "gc", "--cache-dir", cache.root, "--keep-last", "1", "--dry-run")
    assert code == 0 and "would remove 2 takes" in output and len(cache.entries()) == 3
    code, output = _invoke("cache", "gc", "--cache-dir", cache.root, "--keep-last", "1")
    assert code == 0 and "removed 2 takes and 1 unfinished writes" in output and "1 takes kept" in output, output
    assert [e[0][:2] for e in cache.entries()] == ["cc"]
    assert not (cache.root / "aa" / f".dead.npz.{HOST}-1-0000.part").exists()
    assert (cache.root / "bb" / f".live.npz.{HOST}-2-0000.part").exists()  # a write in progress is left alone
    assert cache.get("cc" + "2" * 30) is not None


def test_gc_without_keep_last_keeps_every_take(cache):
    code, output = _invoke("cache", "gc", "--cache-dir", cache.root)
    assert code == 0 and "removed 0 takes and 1 unfinished writes" in output and len(cache.entries()) == 3


def test_bad_arguments_and_empty_caches(tmp_path):
    code, output = _invoke("cache", "gc", "--cache-dir", tmp_path, "--keep-last", "-1")
    assert code == 2 and "--keep-last" in output and "Traceback" not in output
    code, output = _invoke("cache", "ls", "--cache-dir", tmp_path / "none")
    assert code == 0 and "no takes" in output
    (tmp_path / "file").write_text("x")
    code, output = _invoke("cache", "du", "--cache-dir", tmp_path / "file")
    assert code == 2 and "not a folder" in output


def test_default_cache_is_storyreel_cache(tmp_path, monkeypatch, cache):
    monkeypatch.setenv("STORYREEL_CACHE", str(cache.root))
    code, output = _invoke("cache", "du", "--json")
    assert code == 0 and json.loads(output)["takes"] == 3
