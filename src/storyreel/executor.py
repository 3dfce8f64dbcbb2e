"""Where shots are generated: a pool in this process (`local`) or tasks on a Ray cluster (`ray`).

A plan splits into CHAINS: maximal runs of shots in which each shot starts
from its predecessor's last frame (continuous camera on a backend with image
conditioning). A chain is generated in order; different chains do not depend
on each other and run in parallel. The one other link between shots is take
scoring: with several takes per shot, the choice looks at the previous
shot's chosen last frame, so a chain's first shot generates its takes
independently but waits for its predecessor before choosing.

Both executors run the same per-shot functions as the sequential reference
(render.generate_shot / make_takes / choose_take) and write every take to the
same content-addressed cache as soon as it is made, so the frames, the cache
and the video do not depend on the executor, and a crashed or killed render
resumes from whatever takes were finished, wherever they were made.

- LocalExecutor: a thread pool over chains. The default size is one worker
  for CPU backends (the built-in model already spreads each generation over
  every core with torch's intra-op threads; running chains side by side on
  the same cores would only interleave them) and one worker per visible CUDA
  GPU for GPU backends (each with its own model instance on its own device).
- RayExecutor: one Ray task per shot, or with several takes per shot one
  task per take plus a small task that chooses (`max_retries`: a task whose
  worker dies is run again, and finds the takes its first attempt finished
  in the cache). A shot conditioned on its predecessor gets the
  predecessor's result as an ObjectRef argument, so Ray starts it only when
  that is done; everything else (other chains, the takes of one shot) is
  free to run at once on any node. GPU backends ask for one GPU per
  task; the built-in model asks for `num_cpus` cores and uses exactly that
  many torch threads. Workers build the model themselves from a picklable
  factory (the registry name and options), so weights load once per worker
  process and never travel through the object store.

Determinism: a shot's frames depend only on its request, the backend and its
weights (and, for the built-in model on CPU, the number of torch threads:
float reductions are split differently across threads, so run both
executors with the same thread count when comparing bytes, e.g.
OMP_NUM_THREADS=1 against Ray's num_cpus=1).
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Protocol

from . import render
from .cache import TakeCache
from .errors import StoryreelError
from .models.base import VideoModel
from .plan import ShotPlan
from .render import ShotResult, ShotSettings

EXECUTORS = ("local", "ray")

OnShot = Callable[[int, render.TakeRecord], None]


def chains(plan: ShotPlan, model: VideoModel) -> list[list[int]]:
    """Shot indices grouped into chains: [[0, 1, 2], [3], [4, 5]] (each chain in order, chains in order)."""
    out: list[list[int]] = []
    for i in range(len(plan.shots)):
        if out and render.conditioned_on_previous(plan, i, model):
            out[-1].append(i)
        else:
            out.append([i])
    return out


def uses_gpu(model: VideoModel) -> bool:
    """Whether the backend runs on a CUDA GPU (the diffusers backends unless told device cpu/mps)."""
    options = getattr(model, "options", None)
    if options is None or not hasattr(options, "device"):
        return False  # the built-in model and test doubles: CPU
    return options.device is None or str(options.device).startswith("cuda")


def registry_factory(name: str, model: VideoModel | None = None) -> Callable[[], VideoModel]:
    """A picklable function that opens backend `name` (with `model`'s options) in whatever process calls it."""
    from .models.registry import get_model

    return functools.partial(get_model, name, getattr(model, "options", None))


def _model_on_gpu(name: str, options, k: int) -> VideoModel:
    from .models.registry import get_model

    return get_model(name, replace(options, device=f"cuda:{k}"))


class Executor(Protocol):
    name: str

    def run(self, plan: ShotPlan, model: VideoModel, cache: TakeCache, settings: ShotSettings,
            on_shot: OnShot | None = None) -> list[ShotResult]: ...


# ----------------------------------------------------------------------------- local


class _LockedCache:
    """A TakeCache shared by threads: puts of the same key from two threads must not share a temporary file."""

    def __init__(self, cache: TakeCache) -> None:
        self._cache, self._lock = cache, threading.Lock()

    def get(self, key):
        return self._cache.get(key)

    def put(self, key, clip, meta=None):
        with self._lock:
            return self._cache.put(key, clip, meta)


class LocalExecutor:
    """Chains in a thread pool in this process (see the module doc for the default size)."""

    name = "local"

    def __init__(self, workers: int | None = None, model_for_worker: Callable[[int], VideoModel] | None = None) -> None:
        """workers: pool size (None: sized to the machine). model_for_worker(k): worker k's own model
        instance (e.g. on cuda:k); None shares the given model between workers."""
        if workers is not None and workers < 1:
            raise StoryreelError(f"workers must be at least 1, got {workers}", field="workers")
        self.workers, self.model_for_worker = workers, model_for_worker

    def default_workers(self, model: VideoModel) -> int:
        if self.model_for_worker is not None and uses_gpu(model):
            import torch

            return max(1, torch.cuda.device_count())
        return 1

    def run(self, plan: ShotPlan, model: VideoModel, cache: TakeCache, settings: ShotSettings,
            on_shot: OnShot | None = None) -> list[ShotResult]:
        groups = chains(plan, model)
        n = min(self.workers or self.default_workers(model), len(groups))
        if n <= 1:
            return render.run_in_order(plan, model, cache, settings, on_shot)  # the reference path, in this thread
        shared = _LockedCache(cache)
        futures: list[Future] = [Future() for _ in plan.shots]
        models: queue.Queue = queue.Queue()
        for k in range(n):
            models.put(self.model_for_worker(k) if self.model_for_worker else model)
        stop = threading.Event()
        report_lock = threading.Lock()

        def run_chain(chain: list[int]) -> None:
            m = models.get()
            try:
                for i in chain:
                    if stop.is_set():
                        raise _Stopped()
                    previous = futures[i - 1].result() if render.conditioned_on_previous(plan, i, m) else None
                    records, clips, conditioned = render.make_takes(plan, i, m, shared, settings, previous)
                    if previous is None and render.needs_previous_to_choose(plan, i, settings):
                        previous = futures[i - 1].result()  # an earlier chain's: started before this one (FIFO)
                    res = render.choose_take(plan, i, records, clips, conditioned, settings, previous)
                    futures[i].set_result(res)
                    if on_shot is not None:
                        with report_lock:
                            on_shot(i, res.takes[res.chosen])
            except BaseException as e:
                stop.set()
                for i in chain:
                    if not futures[i].done():
                        futures[i].set_exception(e)
                raise
            finally:
                models.put(m)

        with ThreadPoolExecutor(max_workers=n, thread_name_prefix="storyreel-shot") as pool:
            jobs = [pool.submit(run_chain, c) for c in groups]  # in plan order: a chain's predecessor started first
            errors = [j.exception() for j in jobs]
        real = [e for e in errors if e is not None and not isinstance(e, _Stopped)]
        if real:
            raise real[0]
        return [f.result() for f in futures]


class _Stopped(Exception):
    """A chain abandoned because another one failed."""


# ----------------------------------------------------------------------------- ray


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
        import sys

        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(ctx.threads)
    return model, TakeCache(ctx.cache_root)


def _shot_task(ctx: _Context, source, index: int, previous: ShotResult | None) -> ShotResult:
    model, cache = _prepare(ctx, source)
    return render.generate_shot(ctx.plan, index, model, cache, ctx.settings, previous)


def _take_task(ctx: _Context, source, index: int, take: int, previous: ShotResult | None):
    model, cache = _prepare(ctx, source)
    return render.make_takes(ctx.plan, index, model, cache, ctx.settings, previous, which=[take])


def _choose_task(ctx: _Context, index: int, previous: ShotResult | None, *made) -> ShotResult:
    records = [r for m in made for r in m[0]]
    clips = [c for m in made for c in m[1]]
    return render.choose_take(ctx.plan, index, records, clips, made[0][2], ctx.settings, previous)


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
            import ray
        except ImportError:
            raise StoryreelError("--executor ray needs Ray: pip install 'ray[default]'", field="--executor") from None
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
        gpus = self.num_gpus if self.num_gpus is not None else (1 if uses_gpu(model) else 0)
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
            start_from = prev if render.conditioned_on_previous(plan, i, model) else None  # Ray waits for it
            if settings.n_takes(i) == 1:
                refs.append(shot.remote(ctx, source, i, start_from))
            else:  # every take is its own task; the choice waits for all of them (and the previous shot's choice)
                made = [take.remote(ctx, source, i, k, start_from) for k in range(settings.n_takes(i))]
                judge_by = prev if render.needs_previous_to_choose(plan, i, settings) else None
                refs.append(choose.remote(ctx, i, judge_by, *made))

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
        from ray import exceptions as rx

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
    if not cache._path(rec.key).exists():
        cache.put(rec.key, res.clip, {"shot": res.index, "take": rec.take, "seed": rec.seed})


# ----------------------------------------------------------------------------- by name


def make_executor(name: str = "local", *, ray_address: str | None = None, model_name: str | None = None,
                  model: VideoModel | None = None) -> Executor:
    """The executor called `name` ("local" or "ray") for backend `model_name` (registry name)."""
    if name == "local":
        if ray_address:
            raise StoryreelError("--ray-address needs --executor ray", field="--ray-address")
        per_gpu = None
        options = getattr(model, "options", None)
        if model_name and model is not None and uses_gpu(model) and options.device in (None, "cuda"):
            per_gpu = functools.partial(_model_on_gpu, model_name, options)
        return LocalExecutor(model_for_worker=per_gpu)
    if name == "ray":
        return RayExecutor(ray_address, model_factory=registry_factory(model_name, model) if model_name else None)
    raise StoryreelError(f"unknown executor {name!r}; choose {' or '.join(EXECUTORS)}", field="--executor")
