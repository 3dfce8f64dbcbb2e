"""Shots as Ray tasks on a cluster: `--executor ray` (needs the storyreel[ray] extra).

One Ray task per shot, or with several takes per shot one task per take plus
a small task that chooses (`max_retries`: a task whose worker dies is run
again, and finds the takes its first attempt finished in the cache). A shot
conditioned on its predecessor gets the predecessor's result as an ObjectRef
argument, so Ray starts it only when that is done; everything else (other
chains, the takes of one shot) is free to run at once on any node. GPU
backends ask for one GPU per task; the built-in model asks for `num_cpus`
cores and uses exactly that many torch threads. Workers build the model
themselves from a picklable factory (the registry name and options), so
weights load once per worker process and never travel through the object
store.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..errors import StoryreelError
from ..models.base import VideoModel
from ..plan import ShotPlan
from .cache import TakeCache
from .continuity import conditioned_on_previous
from .takes import OnShot, ShotResult, ShotSettings, choose_take, generate_shot, make_takes


@dataclass
class _Context:
    """What every shot task needs besides the model: sent once to the object store."""

    plan: ShotPlan
    settings: ShotSettings
    cache_root: str
    threads: int | None  # torch intra-op threads for CPU backends


_WORKER_MODELS: dict = {}


def _worker_model(source: tuple[str, object]) -> VideoModel:
    kind, obj = source
    if kind == "factory":
        key = repr(obj)
        if key not in _WORKER_MODELS:  # once per worker process (the registry caches too)
            _WORKER_MODELS[key] = obj()
        return _WORKER_MODELS[key]
    return obj


def _prepare(ctx: _Context, source) -> tuple[VideoModel, TakeCache]:
    model = _worker_model(source)
    if ctx.threads:
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(ctx.threads)
    return model, TakeCache(ctx.cache_root)


def _shot_task(ctx: _Context, source, index: int, previous: ShotResult | None) -> ShotResult:
    model, cache = _prepare(ctx, source)
    return generate_shot(ctx.plan, index, model, cache, ctx.settings, previous)


def _take_task(ctx: _Context, source, index: int, take: int, previous: ShotResult | None):
    model, cache = _prepare(ctx, source)
    return make_takes(ctx.plan, index, model, cache, ctx.settings, previous, which=[take])


def _choose_task(ctx: _Context, source, index: int, previous: ShotResult | None, *made) -> ShotResult:
    records = [r for m in made for r in m[0]]
    clips = [c for m in made for c in m[1]]
    model = _worker_model(source)  # asked for prompt adherence; its weights stay unloaded unless it generates
    return choose_take(ctx.plan, index, model, records, clips, made[0][2], ctx.settings, previous)


class RayExecutor:
    """One Ray task per shot, with the continuity dependencies as ObjectRef arguments."""

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        model_factory: Callable[[], VideoModel] | None = None,
        num_cpus: float | None = None,
        num_gpus: float | None = None,
        max_retries: int = 3,
        init_options: dict | None = None,
    ) -> None:
        """address: a running cluster ("auto", "ray://head:10001", "head:6379"); None joins the cluster of
        $RAY_ADDRESS or an already initialised one, else starts a local one sized to this machine.
        model_factory: builds the backend in each worker (None: the model object itself is pickled).
        num_cpus / num_gpus per task: default 1 CPU, and 1 GPU for GPU backends."""
        self.address, self.model_factory = address, model_factory
        self.num_cpus, self.num_gpus, self.max_retries = num_cpus, num_gpus, max_retries
        self.init_options = init_options or {}

    def _connect(self):
        try:
            import ray  # deferred: Ray is an optional extra and takes seconds to import
        except ImportError:
            raise StoryreelError("--executor ray needs Ray: pip install 'storyreel[ray]'", field="--executor") from None
        if ray.is_initialized():
            return ray, False
        opts = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING, **self.init_options}
        try:
            ray.init(address=self.address, **opts)
        except (ConnectionError, RuntimeError, ValueError) as e:
            where = self.address or os.environ.get("RAY_ADDRESS") or "a local Ray instance"
            raise StoryreelError(f"cannot start or reach Ray at {where}: {e}", field="--ray-address") from None
        return ray, True

    def run(self, plan: ShotPlan, model: VideoModel, cache: TakeCache, settings: ShotSettings,
            on_shot: OnShot | None = None) -> list[ShotResult]:
        ray, started = self._connect()
        try:
            return self._run(ray, plan, model, cache, settings, on_shot)
        finally:
            if started:
                ray.shutdown()

    def _run(self, ray, plan, model, cache, settings, on_shot):
        gpus = self.num_gpus if self.num_gpus is not None else (1 if model.device.startswith("cuda") else 0)
        cpus = self.num_cpus if self.num_cpus is not None else 1
        threads = None if gpus else max(1, int(cpus))
        # per-step progress callbacks stay in this process
        ctx = ray.put(_Context(plan, replace(settings, on_step=None), str(cache.root), threads))
        source = ray.put(("factory", self.model_factory) if self.model_factory else ("object", model))
        opts = {"num_cpus": cpus, "num_gpus": gpus, "max_retries": self.max_retries}
        shot = ray.remote(_shot_task).options(**opts)
        take = ray.remote(_take_task).options(**opts)
        choose = ray.remote(_choose_task).options(num_cpus=min(cpus, 1), max_retries=self.max_retries)

        refs: list = []
        for i in range(len(plan.shots)):
            prev = refs[i - 1] if i else None
            start_from = prev if conditioned_on_previous(plan, i, model) else None  # Ray waits for it
            if settings.n_takes(i) == 1:
                refs.append(shot.remote(ctx, source, i, start_from))
            else:  # every take is its own task; the choice waits for all of them (and the previous shot's choice)
                made = [take.remote(ctx, source, i, k, start_from) for k in range(settings.n_takes(i))]
                judge_by = prev if settings.needs_previous_to_choose(i) else None
                refs.append(choose.remote(ctx, source, i, judge_by, *made))

        results: list[ShotResult | None] = [None] * len(refs)
        pending = {ref: i for i, ref in enumerate(refs)}
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    i = pending.pop(ref)
                    res = self._get(ray, ref, i)
                    _backfill(cache, res)
                    results[i] = res
                    if on_shot is not None:
                        on_shot(i, res.takes[res.chosen])
        except BaseException:
            for ref in pending:
                ray.cancel(ref)
            raise
        return results

    def _get(self, ray, ref, index: int) -> ShotResult:
        from ray import exceptions as rx  # deferred: see _connect

        try:
            return ray.get(ref)
        except rx.RayTaskError as e:
            cause = getattr(e, "cause", None)
            if isinstance(cause, StoryreelError):
                raise cause from None
            raise
        except (rx.WorkerCrashedError, rx.NodeDiedError, rx.ObjectLostError) as e:
            raise StoryreelError(
                f"shot {index + 1}: Ray lost the task {self.max_retries + 1} times ({type(e).__name__}); "
                f"finished takes are in the cache, run the render again to resume") from None


def _backfill(cache: TakeCache, res: ShotResult) -> None:
    """Keep the chosen take in this machine's cache too (workers on other nodes without a shared cache)."""
    rec = res.takes[res.chosen]
    if not cache.path(rec.key).exists():
        cache.put(rec.key, res.clip, {"shot": res.index, "take": rec.take, "seed": rec.seed})
