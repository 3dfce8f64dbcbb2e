"""Executors: chains, the local pool and Ray give the sequential reference's results, in dependency order.

The Ray tests share one local cluster (ray.init(num_cpus=2)) for the module.
The test double (fakes.LoggingModel) makes frames that depend only on its
request; it logs every generation (process, start, end) to a file so the order
can be checked across processes, and can die (os._exit) once in the middle of
a chosen shot.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import fakes
from fakes import LoggingModel, make_plan
from storyreel.errors import StoryreelError
from storyreel.plan import CameraMove
from storyreel.render.cache import TakeCache
from storyreel.render.continuity import chains
from storyreel.render.executor import LocalExecutor, make_executor
from storyreel.render.ray_executor import RayExecutor
from storyreel.render.takes import ShotSettings, run_in_order


def red_scorer(frames, previous_last, shot, model):
    """Prefers redder takes, and (to use the previous shot) takes whose first frame is near its last one."""
    near = 0.0 if previous_last is None else -float(np.abs(frames[0].astype(int) - previous_last.astype(int)).mean())
    return float(frames[0, 0, 0, 0]) + 0.001 * near, {"near": near}


def _plan(continuous: list[bool], frames: int = 24):
    cams = [CameraMove(move="zoom_in", amount=0.2, continuous=c) for c in continuous]
    return make_plan([frames] * len(continuous), cameras=cams, width=160, height=90)


def _log(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _same(a: list, b: list) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert (x.index, x.chosen, x.conditioned_on_previous) == (y.index, y.chosen, y.conditioned_on_previous)
        assert [t.key for t in x.takes] == [t.key for t in y.takes]
        assert [t.score for t in x.takes] == [t.score for t in y.takes]
        assert np.array_equal(x.clip.frames, y.clip.frames)


# chains: shots 1 and 2 continue 0; 3 starts afresh; 4 continues 3
CONTINUOUS = [False, True, True, False, True]


def test_chains_follow_the_continuity_links(tmp_path):
    model = LoggingModel(tmp_path / "log")
    assert chains(_plan(CONTINUOUS), model) == [[0, 1, 2], [3, 4]]
    model.capabilities = frozenset({"t2v"})  # no image conditioning: every shot stands alone
    assert chains(_plan(CONTINUOUS), model) == [[0], [1], [2], [3], [4]]


def test_unknown_executor_is_a_clear_error():
    with pytest.raises(StoryreelError, match="unknown executor"):
        make_executor("slurm")
    with pytest.raises(StoryreelError, match="--executor ray"):
        make_executor("local", ray_address="auto")


@pytest.mark.parametrize("takes", [1, 2])
def test_local_pool_matches_the_sequential_reference_and_runs_chains_at_once(tmp_path, takes):
    plan = _plan(CONTINUOUS)
    settings = ShotSettings(takes=takes, scorer=red_scorer if takes > 1 else None)
    ref = run_in_order(plan, LoggingModel(tmp_path / "ref.log"), TakeCache(tmp_path / "ref"), settings)
    meet = {plan.shots[0].prompt: (tmp_path / "a", tmp_path / "b"), plan.shots[3].prompt: (tmp_path / "b", tmp_path / "a")}
    model = LoggingModel(tmp_path / "pool.log", rendezvous=meet)
    seen = []
    got = LocalExecutor(workers=2).run(plan, model, TakeCache(tmp_path / "pool"), settings, on_shot=lambda i, r: seen.append(i))
    _same(ref, got)
    assert sorted(seen) == list(range(5))
    _check_order(plan, _log(tmp_path / "pool.log"))


def test_local_pool_gives_each_worker_its_own_model(tmp_path):
    made = []

    def model_for(k):
        made.append(k)
        return LoggingModel(tmp_path / f"w{k}.log")

    plan = _plan(CONTINUOUS)
    LocalExecutor(workers=2, model_for_worker=model_for).run(plan, LoggingModel(tmp_path / "x"), TakeCache(tmp_path), ShotSettings())
    assert sorted(made) == [0, 1]
    assert sorted(q["prompt"] for k in (0, 1) for q in _log(tmp_path / f"w{k}.log")) == sorted(s.prompt for s in plan.shots)


def test_local_pool_stops_and_reports_the_first_failure(tmp_path):
    class Failing(LoggingModel):
        def generate(self, req, progress=None):
            if req.prompt == "prompt 1":
                raise StoryreelError("the backend refused")
            return super().generate(req, progress)

    with pytest.raises(StoryreelError, match="refused"):
        LocalExecutor(workers=2).run(_plan(CONTINUOUS), Failing(tmp_path / "log"), TakeCache(tmp_path), ShotSettings())


def _check_order(plan, log):
    """Every conditioned shot started after its predecessor's last generation ended."""
    by_prompt: dict[str, list[dict]] = {}
    for e in log:
        by_prompt.setdefault(e["prompt"], []).append(e)
    for i, shot in enumerate(plan.shots):
        if i and shot.camera.continuous:
            prev_end = max(e["end"] for e in by_prompt[plan.shots[i - 1].prompt])
            assert min(e["start"] for e in by_prompt[shot.prompt]) >= prev_end, f"shot {i} started before shot {i - 1} ended"
            assert all(e["conditioned"] for e in by_prompt[shot.prompt])


# ----------------------------------------------------------------------------- ray


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    import sys

    from ray import cloudpickle

    for module in (sys.modules[__name__], fakes):  # workers cannot import the test modules
        cloudpickle.register_pickle_by_value(module)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.mark.parametrize("takes", [1, 2])
def test_ray_matches_the_local_executor_in_the_same_cache(ray_cluster, tmp_path, takes):
    plan = _plan(CONTINUOUS)
    settings = ShotSettings(takes=takes, scorer=red_scorer if takes > 1 else None)
    local = LocalExecutor().run(plan, LoggingModel(tmp_path / "local.log"), TakeCache(tmp_path / "local"), settings)
    seen = []
    cache = TakeCache(tmp_path / "ray")
    got = RayExecutor().run(plan, LoggingModel(tmp_path / "ray.log"), cache, settings, on_shot=lambda i, r: seen.append(i))
    _same(local, got)
    assert sorted(seen) == list(range(5))
    assert len(cache.entries()) == 5 * takes  # every take landed in the cache the driver named
    again = LoggingModel(tmp_path / "again.log")
    _same(local, LocalExecutor().run(plan, again, TakeCache(tmp_path / "ray"), settings))
    assert _log(tmp_path / "again.log") == []  # all from the cache the Ray workers filled


def test_ray_honours_dependencies_and_runs_independent_chains_in_parallel(ray_cluster, tmp_path):
    plan = _plan(CONTINUOUS)
    meet = {plan.shots[0].prompt: (tmp_path / "a", tmp_path / "b"), plan.shots[3].prompt: (tmp_path / "b", tmp_path / "a")}
    model = LoggingModel(tmp_path / "log", delay=0.05, rendezvous=meet)
    RayExecutor().run(plan, model, TakeCache(tmp_path / "c"), ShotSettings())
    log = _log(tmp_path / "log")
    assert sorted(e["prompt"] for e in log) == sorted(s.prompt for s in plan.shots)
    _check_order(plan, log)


def test_ray_makes_the_takes_of_a_conditioned_shot_in_parallel(ray_cluster, tmp_path):
    plan = _plan([False, True])
    s0, s1 = plan.shots[1].seed, plan.shots[1].seed + 1_000_003  # shot 1's two takes, both after shot 0
    meet = {f"seed {s0}": (tmp_path / "a", tmp_path / "b"), f"seed {s1}": (tmp_path / "b", tmp_path / "a")}
    settings = ShotSettings(takes=2, scorer=red_scorer)
    got = RayExecutor().run(plan, LoggingModel(tmp_path / "log", rendezvous=meet), TakeCache(tmp_path / "c"), settings)
    ref = run_in_order(plan, LoggingModel(tmp_path / "ref.log"), TakeCache(tmp_path / "ref"), settings)
    _same(ref, got)
    _check_order(plan, _log(tmp_path / "log"))


def test_ray_retries_a_worker_that_dies_mid_task(ray_cluster, tmp_path):
    plan = _plan(CONTINUOUS)
    model = LoggingModel(tmp_path / "log", die_on=plan.shots[1].prompt)
    ref = run_in_order(plan, LoggingModel(tmp_path / "ref.log"), TakeCache(tmp_path / "ref"), ShotSettings())
    got = RayExecutor().run(plan, model, TakeCache(tmp_path / "c"), ShotSettings())
    assert (tmp_path / "log.died").exists()  # the worker really died once
    _same(ref, got)
    _check_order(plan, _log(tmp_path / "log"))


def test_ray_task_errors_come_back_as_storyreel_errors(ray_cluster, tmp_path):
    class Refusing(LoggingModel):
        def generate(self, req, progress=None):
            raise StoryreelError("the backend refused", field="prompt")

    with pytest.raises(StoryreelError, match="refused") as info:
        RayExecutor().run(_plan(CONTINUOUS), Refusing(tmp_path / "log"), TakeCache(tmp_path), ShotSettings())
    assert info.value.field == "prompt"


BOARD = """\
title: Two chains
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
    camera: {move: zoom_in, amount: 0.1, continuous: false}
  - prompt: "a white heart moves left in the night sky"
"""


@pytest.mark.slow
def test_cli_render_with_ray_writes_the_same_video_as_local(ray_cluster, tmp_path, monkeypatch):
    """The built-in model end to end: `--executor ray` (tasks with 1 CPU = 1 torch thread) and the local
    executor (1 torch thread here) give byte-identical MP4s and the same takes in their caches."""
    import torch
    from typer.testing import CliRunner

    from fakes import make_song
    from storyreel.cli import app

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    make_song(tmp_path / "song.wav", 6.0)
    (tmp_path / "board.yaml").write_text(BOARD)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        outs = {}
        for name in ("local", "ray"):
            out = tmp_path / name / "video.mp4"
            res = CliRunner().invoke(app, ["render", str(tmp_path / "board.yaml"), "-o", str(out), "--executor", name,
                                           "--cache-dir", str(tmp_path / f"cache-{name}")])
            assert res.exit_code == 0, res.output
            outs[name] = out.read_bytes()
    finally:
        torch.set_num_threads(threads)
    assert outs["ray"] == outs["local"]
    names = {n: sorted(p.name for p in (tmp_path / f"cache-{n}").glob("*/*.npz")) for n in outs}
    assert names["ray"] == names["local"] and len(names["ray"]) == 4
