"""Run a stage's shards on Ray Data: ``map_batches`` over an actor pool, one model per actor.

The driver (the ``reasonsift`` process) reads and validates the input with the same reader as a local run
(errors still name the file, line and field), hands Ray Data one item per shard still to compute, and
writes each shard into the run directory as its result comes back (any order: shards are written by
index, so the rows read back in input order). A worker that dies is restarted by Ray and its shard
recomputed; a driver that dies leaves the shards written so far, and ``--resume`` computes the rest.

A stage plugs in a *worker class*: ``Worker(**kwargs)`` loads its model(s) once per actor and
``worker(shard_index, payload) -> result`` computes one shard with the same function a local run calls.
"""

from __future__ import annotations

import os
import pickle
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from reasonsift.scale.options import ScaleOptions

INSTALL_HINT = "--engine ray needs Ray Data: pip install 'reasonsift[ray]'"
RESTARTS = 3  # times Ray restarts a dead actor (and retries its shard) before the run fails
# Fault injection for the tests: "FILE:SHARD" makes the actor that takes SHARD exit at once (no cleanup), the
# first time only (FILE records that it happened). Read on the actor, from the environment Ray gives it.
CRASH_ENV = "REASONSIFT_RAY_CRASH_ONCE"


def import_ray():
    """``ray`` (with Ray Data), or an ``ImportError`` that says what to install."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as e:
        raise ImportError(INSTALL_HINT) from e
    return ray


def init_ray(opts: ScaleOptions, *, progress: bool = False):
    """Join ``opts.ray_address`` or start a local instance (once per process); Ray Data's progress bars follow
    ``progress``. A local instance declares at least one CPU more than the actors reserve, so Ray Data's own
    tasks are never starved by them."""
    ray = import_ray()
    if not ray.is_initialized():
        kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": True, "logging_level": "WARNING"}
        if opts.ray_address:
            kw["address"] = opts.ray_address
        else:
            need = int(opts.ray_workers * opts.cpus_per_worker + 0.999) + 1
            kw["num_cpus"] = max(os.cpu_count() or 1, need)
        ray.init(**kw)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = progress
    ctx.print_on_execution_start = progress
    return ray


def gpus_per_worker(opts: ScaleOptions) -> float:
    """``--gpus-per-worker``, else 1 when the Ray cluster has GPUs and 0 otherwise (after :func:`init_ray`)."""
    if opts.gpus_per_worker is not None:
        return float(opts.gpus_per_worker)
    ray = import_ray()
    return 1.0 if ray.cluster_resources().get("GPU", 0) > 0 else 0.0


def expected_dtype(dtype: str, device: str, gpus: float) -> str:
    """The dtype ``--dtype auto`` resolves to on an actor (``models.load.resolve_dtype``'s rule): bfloat16 when
    the actor computes on a GPU, float32 otherwise. Known on the driver without loading the model, so the run's
    ``config.json`` (what ``--resume`` compares) is written before any actor starts."""
    if dtype != "auto":
        return dtype
    on_gpu = device.startswith("cuda") or (device == "auto" and gpus > 0)
    return "bfloat16" if on_gpu else "float32"


def start(opts: ScaleOptions, dtype: str, device: str, *, progress: bool = False) -> dict[str, str]:
    """Start (or join) Ray for a stage and return the run's resolved facts: ``{"dtype": ...}`` as the actors
    will load it (:func:`expected_dtype`), what ``config.json`` records and every worker checks."""
    init_ray(opts, progress=progress)
    return {"dtype": expected_dtype(dtype, device, gpus_per_worker(opts))}


def check_resolved(got: dict[str, str], expected: dict[str, str]) -> None:
    """On a worker: refuse models that resolved to another dtype than the run recorded."""
    if got != expected:
        raise ValueError(
            f"dtype: the worker's models resolved to {got['dtype']!r}, the run expects {expected['dtype']!r}; "
            "pass --dtype explicitly"
        )


class _ShardActor:
    """The Ray Data callable class: builds the stage's worker once, then computes one shard per row."""

    def __init__(self, worker_cls: type, worker_kwargs: dict[str, Any]):
        self.worker = worker_cls(**worker_kwargs)

    def __call__(self, batch):
        import pyarrow as pa

        shards = batch.column("shard").to_pylist()
        _maybe_crash(shards)
        payloads = batch.column("payload").to_pylist()
        results = [
            pickle.dumps(self.worker(i, pickle.loads(p))) for i, p in zip(shards, payloads, strict=True)
        ]
        return pa.table({"shard": pa.array(shards, pa.int64()), "result": pa.array(results, pa.binary())})


def _maybe_crash(shards: list[int]) -> None:
    spec = os.environ.get(CRASH_ENV)
    if not spec:
        return
    path, shard = spec.rsplit(":", 1)
    if int(shard) in shards and not os.path.exists(path):
        with open(path, "w") as f:
            f.write(f"killed the worker of shard {shard}\n")
        os._exit(1)


def run_shards(
    tasks: Iterable[tuple[int, Any]],
    worker_cls: type,
    worker_kwargs: dict[str, Any],
    write: Callable[[int, Any], None],
    opts: ScaleOptions,
    *,
    progress: bool = False,
) -> int:
    """Compute ``worker(i, payload)`` for every ``(i, payload)`` of ``tasks`` on ``opts.ray_workers`` actors
    and call ``write(i, result)`` on this process as each one arrives; returns the number of shards."""
    import pyarrow as pa

    tasks = list(tasks)
    if not tasks:
        return 0
    ray = init_ray(opts, progress=progress)
    items = pa.table(
        {
            "shard": pa.array([i for i, _ in tasks], pa.int64()),
            "payload": pa.array([pickle.dumps(p) for _, p in tasks], pa.binary()),
        }
    )
    # one block per shard, so the actors share the shards out one at a time (not one block of all of them)
    ds = ray.data.from_arrow([items.slice(k, 1) for k in range(items.num_rows)])
    pool = ray.data.ActorPoolStrategy(size=min(opts.ray_workers, len(tasks)), max_tasks_in_flight_per_actor=1)
    with warnings.catch_warnings():
        # Ray Data restarts dead actors forever by default; a bounded count is still passed as a remote arg
        warnings.filterwarnings(
            "ignore", message=".*ray_remote_args.*deprecated", category=DeprecationWarning
        )
        ds = ds.map_batches(
            _ShardActor,
            fn_constructor_kwargs={"worker_cls": worker_cls, "worker_kwargs": worker_kwargs},
            batch_size=1,
            batch_format="pyarrow",
            compute=pool,
            num_cpus=opts.cpus_per_worker,
            num_gpus=gpus_per_worker(opts),
            max_restarts=RESTARTS,
            max_task_retries=RESTARTS,
        )
    done = 0
    for batch in ds.iter_batches(batch_size=None, batch_format="pyarrow", prefetch_batches=0):
        for i, blob in zip(
            batch.column("shard").to_pylist(), batch.column("result").to_pylist(), strict=True
        ):
            write(int(i), pickle.loads(blob))
            done += 1
    if done != len(tasks):
        raise RuntimeError(f"ray: {done} of {len(tasks)} shards came back; rerun with --resume")
    return done
