"""``ScaleOptions``: the engine options every shardable stage config takes (``profile``, ``eval``).

None of them changes an output number (the shards are computed by the same function either way), so they
are all runtime-only: a run started in-process may be resumed on Ray and back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

ENGINES = ("local", "ray")


@dataclass
class ScaleOptions:
    SCALE_FIELDS: ClassVar[tuple[str, ...]] = (
        "engine", "ray_address", "ray_workers", "gpus_per_worker", "cpus_per_worker",
    )  # fmt: skip

    engine: str = "local"  # local: this process; ray: Ray Data, one model per actor
    ray_address: str | None = None  # None: a local Ray instance; "auto" or "ray://host:10001": a cluster
    ray_workers: int = 2  # actors (one model each) = Ray Data map_batches concurrency
    gpus_per_worker: float | None = None  # None: 1 when the Ray cluster has GPUs, else 0
    cpus_per_worker: float = 1.0

    def check_scale(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"engine: expected one of {', '.join(ENGINES)}, got {self.engine!r}")
        if self.ray_workers < 1:
            raise ValueError(f"ray_workers: expected >= 1, got {self.ray_workers}")
        if self.gpus_per_worker is not None and not self.gpus_per_worker >= 0:
            raise ValueError(f"gpus_per_worker: expected >= 0, got {self.gpus_per_worker}")
        if not self.cpus_per_worker > 0:
            raise ValueError(f"cpus_per_worker: expected > 0, got {self.cpus_per_worker}")
        if self.engine == "local" and self.ray_address:
            raise ValueError("ray_address: given with --engine local; pass --engine ray to use a Ray cluster")
