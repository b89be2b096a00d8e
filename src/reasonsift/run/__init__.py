"""The run contract shared by every stage (docs/run-contract.md): run directory, manifest, config base."""

from reasonsift.run.config import StageConfig, read_yaml
from reasonsift.run.dir import (
    CONFIG_FILE,
    MANIFEST_FILE,
    REJECTS_FILE,
    RunDir,
    option_name,
    run_record,
    shard_name,
)
from reasonsift.run.manifest import (
    build_manifest,
    examples_input,
    input_record,
    model_identity,
    read_manifest,
)

__all__ = [
    "CONFIG_FILE",
    "MANIFEST_FILE",
    "REJECTS_FILE",
    "RunDir",
    "StageConfig",
    "build_manifest",
    "examples_input",
    "input_record",
    "model_identity",
    "option_name",
    "read_manifest",
    "read_yaml",
    "run_record",
    "shard_name",
]
