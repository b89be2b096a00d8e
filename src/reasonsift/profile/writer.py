"""The profile run directory's schemas (docs/profile-schema.md); the directory itself is reasonsift.run."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from reasonsift.run.dir import RunDir as _RunDir
from reasonsift.run.dir import shard_name  # noqa: F401  (re-exported: the shard naming is the contract's)

_F32, _I32 = pa.float32(), pa.int32()

EXAMPLE_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("domain", pa.string()),
        ("format", pa.string()),
        ("question", pa.string()),
        ("trace", pa.string()),
        ("answer", pa.string()),
        ("input_ids", pa.list_(_I32)),
        ("score_start", _I32),
        ("n_truncated", _I32),  # tokens dropped on the left by --overflow truncate-left (0 otherwise)
        ("token_ids", pa.list_(_I32)),
        ("tokens", pa.list_(pa.string())),
        ("entropy", pa.list_(_F32)),
        ("logprob", pa.list_(_F32)),
        ("rank", pa.list_(_I32)),
        ("top_ids", pa.list_(pa.list_(_I32))),
        ("top_tokens", pa.list_(pa.list_(pa.string()))),
        ("top_logprobs", pa.list_(pa.list_(_F32))),
        ("segment", pa.list_(pa.int8())),
        ("step", pa.list_(pa.int16())),
        ("forking_sequence", pa.list_(pa.bool_())),
        ("forking_batch", pa.list_(pa.bool_())),
        ("n_tokens", _I32),
        ("H_mean", _F32),
        ("H_p50", _F32),
        ("H_p80", _F32),
        ("H_p90", _F32),
        ("H_p99", _F32),
        ("frac_H_below_0_01", _F32),
        ("top20_entropy_mass", _F32),
        ("s_a_given_q", _F32),
        ("s_a", _F32),
        ("ifd", _F32),
        ("ppl_q_given_a", _F32),
        ("ppl_q", _F32),
        ("r_ifd", _F32),
        ("ig_nll", pa.list_(_F32)),
        ("ig_gains", pa.list_(_F32)),
        ("ig_total", _F32),
        ("info_gain", _F32),
        ("posthoc", pa.bool_()),
        ("compare_entropy", pa.list_(_F32)),  # --compare-model's entropies at the same positions (else null)
    ]
)

FORKING_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("forking", pa.list_(pa.bool_())),
        ("forking_dataset", pa.list_(pa.bool_())),
        ("forking_fixed", pa.list_(pa.bool_())),
        ("n_forking", _I32),
        ("forking_trace", _I32),
        ("forking_answer", _I32),
        ("forking_other", _I32),
        ("forking_per_step", pa.list_(_I32)),
    ]
)


# What a profile run writes besides the config, manifest, shards and rejects (removed by --overwrite).
PROFILE_OUTPUTS = ("stats.json", "forking.parquet")


class RunDir(_RunDir):
    """A profile run directory: the generic run contract (reasonsift.run) with the example shards' schema."""

    schema = EXAMPLE_SCHEMA

    def __init__(self, root: str | Path):
        super().__init__(root, stage="profile", outputs=PROFILE_OUTPUTS)
