"""The run directory's files (docs/profile-schema.md): atomic Parquet shards with completion markers."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from reasonsift.utils.io import atomic_path, atomic_write_text

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


def shard_name(i: int) -> str:
    return f"part-{i:05d}"


class RunDir:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.examples = self.root / "examples"

    def parquet(self, i: int) -> Path:
        return self.examples / f"{shard_name(i)}.parquet"

    def marker(self, i: int) -> Path:
        return self.examples / f"_{shard_name(i)}.done"

    def shard_rejects(self, i: int) -> Path:
        return self.examples / f"_{shard_name(i)}.rejects.jsonl"

    def is_done(self, i: int) -> bool:
        return self.marker(i).exists() and self.parquet(i).exists()

    def done_info(self, i: int) -> dict:
        return json.loads(self.marker(i).read_text())

    def write_shard(self, i: int, rows: list[dict], rejects: list[dict], info: dict) -> None:
        """Parquet, then rejects, then the marker last: a shard counts only once all three are on disk.
        Markers start with ``_`` so that readers of the folder (pandas, pyarrow, DuckDB globs) skip them."""
        table = pa.Table.from_pylist(rows, schema=EXAMPLE_SCHEMA)
        with atomic_path(self.parquet(i)) as tmp:
            pq.write_table(table, tmp)
        atomic_write_text(self.shard_rejects(i), "".join(json.dumps(r) + "\n" for r in rejects))
        atomic_write_text(self.marker(i), json.dumps(info, sort_keys=True))

    def shard_paths(self) -> list[Path]:
        return sorted(self.examples.glob("part-*.parquet"))

    def read(self, columns: list[str] | None = None) -> pa.Table:
        paths = self.shard_paths()
        if not paths:
            return (
                EXAMPLE_SCHEMA.empty_table()
                if columns is None
                else EXAMPLE_SCHEMA.empty_table().select(columns)
            )
        return pa.concat_tables([pq.read_table(p, columns=columns) for p in paths])

    def write_json(self, name: str, obj) -> None:
        atomic_write_text(self.root / name, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")

    def write_table(self, name: str, rows: list[dict], schema: pa.Schema) -> None:
        with atomic_path(self.root / name) as tmp:
            pq.write_table(pa.Table.from_pylist(rows, schema=schema), tmp)
