"""Where shots are generated: a pool in this process (`local`) or tasks on a Ray cluster (`ray`).

A plan splits into CHAINS: maximal runs of shots in which each shot starts
from its predecessor's last frame (continuous camera on a backend with image
conditioning). A chain is generated in order; different chains do not depend
on each other and run in parallel. The one other link between shots is take
scoring: with several takes per shot, the choice looks at the previous
shot's chosen last frame, so a chain's first shot generates its takes
independently but waits for its predecessor before choosing.

Both executors run the same per-shot functions as the sequential reference
(render.takes: generate_shot / make_takes / choose_take) and write every take to the
same content-addressed cache as soon as it is made, so the frames, the cache
and the video do not depend on the executor, and a crashed or killed render
resumes from whatever takes were finished, wherever they were made.

- LocalExecutor: a thread pool over chains. The default size is one worker
  for CPU backends (the built-in model already spreads each generation over
  every core with torch's intra-op threads; running chains side by side on
  the same cores would only interleave them) and one worker per visible CUDA
  GPU for GPU backends (each with its own model instance on its own device).
- RayExecutor (render.ray_executor): one Ray task per shot, or with several takes per shot one
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
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from ..errors import StoryreelError
from ..models.base import VideoModel
from ..plan import ShotPlan
from .cache import TakeCache
from ..models.registry import get_model
from .continuity import chains, conditioned_on_previous
from .ray_executor import RayExecutor
from .takes import OnShot, ShotResult, ShotSettings, choose_take, make_takes, run_in_order

EXECUTORS = ("local", "ray")


def uses_gpu(model: VideoModel) -> bool:
    """Whether the backend runs on a CUDA GPU."""
    return model.device.startswith("cuda")


def registry_factory(name: str, model: VideoModel | None = None) -> Callable[[], VideoModel]:
    """A picklable function that opens backend `name` (with `model`'s options) in whatever process calls it."""
    return functools.partial(get_model, name, model.options if model is not None else None)


def _model_on_gpu(name: str, options, k: int) -> VideoModel:
    return get_model(name, options, device=f"cuda:{k}")


class Executor(Protocol):
    name: str

    def run(self, plan: ShotPlan, model: VideoModel, cache: TakeCache, settings: ShotSettings,
            on_shot: OnShot | None = None) -> list[ShotResult]: ...


# ----------------------------------------------------------------------------- local


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
            import torch  # deferred: only GPU backends, which have imported it already

            return max(1, torch.cuda.device_count())
        return model.parallel_jobs  # 1 for local backends; a hosted API's max_concurrent

    def run(self, plan: ShotPlan, model: VideoModel, cache: TakeCache, settings: ShotSettings,
            on_shot: OnShot | None = None) -> list[ShotResult]:
        groups = chains(plan, model)
        n = min(self.workers or self.default_workers(model), len(groups))
        if n <= 1:
            return run_in_order(plan, model, cache, settings, on_shot)  # the reference path, in this thread
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
                    previous = futures[i - 1].result() if conditioned_on_previous(plan, i, m) else None
                    records, clips, conditioned = make_takes(plan, i, m, cache, settings, previous)
                    if previous is None and settings.needs_previous_to_choose(i):
                        previous = futures[i - 1].result()  # an earlier chain's: started before this one (FIFO)
                    res = choose_take(plan, i, m, records, clips, conditioned, settings, previous)
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


# ----------------------------------------------------------------------------- by name


def make_executor(name: str = "local", *, ray_address: str | None = None, model_name: str | None = None,
                  model: VideoModel | None = None) -> Executor:
    """The executor called `name` ("local" or "ray") for backend `model_name` (registry name)."""
    if name == "local":
        if ray_address:
            raise StoryreelError("--ray-address needs --executor ray", field="--ray-address")
        per_gpu = None
        if model_name and model is not None and model.device == "cuda":  # not pinned to one GPU: one per GPU
            per_gpu = functools.partial(_model_on_gpu, model_name, model.options)
        return LocalExecutor(model_for_worker=per_gpu)
    if name == "ray":
        return RayExecutor(ray_address, model_factory=registry_factory(model_name, model) if model_name else None)
    raise StoryreelError(f"unknown executor {name!r}; choose {' or '.join(EXECUTORS)}", field="--executor")
