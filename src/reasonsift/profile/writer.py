"""The run directory's files (docs/profile-schema.md): atomic Parquet shards with completion markers."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from reasonsift.profile.schema import EXAMPLE_SCHEMA, FORKING_SCHEMA  # noqa: F401 (re-exported)
from reasonsift.utils.io import atomic_path, atomic_write_text


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
