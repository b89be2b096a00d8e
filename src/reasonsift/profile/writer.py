"""The profile run directory: the generic run contract (reasonsift.run) with the profile's schemas."""

from __future__ import annotations

from pathlib import Path

from reasonsift.profile.schema import EXAMPLE_SCHEMA, FORKING_SCHEMA  # noqa: F401 (re-exported)
from reasonsift.run.dir import RunDir as _RunDir
from reasonsift.run.dir import shard_name  # noqa: F401  (re-exported: the shard naming is the contract's)

# What a profile run writes besides the config, manifest, shards and rejects (removed by --overwrite).
PROFILE_OUTPUTS = ("stats.json", "forking.parquet")


class RunDir(_RunDir):
    """A profile run directory: the generic run contract (reasonsift.run) with the example shards' schema."""

    schema = EXAMPLE_SCHEMA

    def __init__(self, root: str | Path):
        super().__init__(root, stage="profile", outputs=PROFILE_OUTPUTS)
