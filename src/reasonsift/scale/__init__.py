"""Scale-out on existing engines: Ray Data runs a stage's shards on an actor pool (``--engine ray``).

The stages (``profile``, ``eval``) split their input into shards and write one shard at a time into their
run directory (docs/run-contract.md). :mod:`reasonsift.scale.ray_engine` runs the same per-shard function
on Ray actors instead of in this process; the driver writes each shard as it comes back, so the run
directory, ``--resume``, ``select`` and the viewer are unchanged. See docs/scale.md.
"""

from reasonsift.scale.options import ENGINES, ScaleOptions

__all__ = ["ENGINES", "ScaleOptions"]
