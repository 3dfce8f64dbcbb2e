"""The take cache: keys cover everything that determines a take; writes are atomic; corruption is caught."""

import numpy as np
import pytest

from storyreel.render.cache import TakeCache, collect, take_key
from storyreel.models.base import Clip, GenerationRequest


def _clip(seed=0):
    return Clip(np.random.default_rng(seed).integers(0, 255, (4, 8, 8, 3), dtype=np.uint8), 8.0)


def test_key_changes_with_every_input():
    base = GenerationRequest(prompt="a red star", seed=1, height=48, width=80, frames=16)
    k = take_key("m:1", base)
    variants = [
        ("m:2", base),
        ("m:1", GenerationRequest(prompt="a red heart", seed=1, height=48, width=80, frames=16)),
        ("m:1", GenerationRequest(prompt="a red star", seed=2, height=48, width=80, frames=16)),
        ("m:1", GenerationRequest(prompt="a red star", seed=1, height=48, width=48, frames=16)),
        ("m:1", GenerationRequest(prompt="a red star", seed=1, height=48, width=80, frames=18)),
        ("m:1", GenerationRequest(prompt="a red star", seed=1, height=48, width=80, frames=16, steps=3)),
        ("m:1", GenerationRequest(prompt="a red star", seed=1, height=48, width=80, frames=16, negative_prompt="x")),
        ("m:1", GenerationRequest(prompt="a red star", seed=1, height=48, width=80, frames=16,
                                  first_frames=np.zeros((1, 48, 80, 3), np.uint8))),
    ]
    keys = {take_key(ident, req) for ident, req in variants}
    assert k not in keys and len(keys) == len(variants)
    assert take_key("m:1", base) == k


def test_round_trip_and_hit_counting(tmp_path):
    cache = TakeCache(tmp_path)
    clip = _clip()
    cache.put("abc123", clip, {"shot": 1})
    got = cache.get("abc123")
    assert np.array_equal(got.frames, clip.frames) and got.fps == 8.0 and got.info["shot"] == 1
    assert cache.get("nope") is None
    assert (cache.hits, cache.misses) == (1, 1)
    assert not [p for p in tmp_path.rglob(".*")]  # no temporary left behind


def test_corrupt_entry_is_detected_and_dropped(tmp_path):
    cache = TakeCache(tmp_path)
    path = cache.put("deadbeef", _clip())
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="corrupt"):
        assert cache.get("deadbeef") is None
    assert not path.exists()


def test_truncated_entry_is_treated_as_missing(tmp_path):
    cache = TakeCache(tmp_path)
    path = cache.put("feedface", _clip())
    path.write_bytes(path.read_bytes()[:100])
    with pytest.warns(UserWarning):
        assert cache.get("feedface") is None


def test_gc_keeps_the_most_recently_used(tmp_path):
    import os
    import time

    cache = TakeCache(tmp_path)
    for i, key in enumerate(["aa01", "bb02", "cc03"]):
        p = cache.put(key, _clip(i))
        os.utime(p, (time.time() - 100 + i, time.time() - 100 + i))
    res = collect(cache, keep_last=1)
    assert res["removed"] == 2 and res["freed"] > 0
    assert [e[0] for e in cache.entries()] == ["cc03"]
