"""Rows to JSONL or Parquet. ``meta`` and other free dicts are JSON strings in Parquet.

Values JSON cannot hold (timestamps, bytes from a Parquet input) are written as their ``str``.
Parquet needs one schema per column; rows whose ``meta`` dicts have different keys (or value types) would
not share a struct type, so ``meta`` is stored as a JSON string column and decoded on reading.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reasonsift.data.example import FIELDS, Example

META_ENCODING_KEY = b"reasonsift.meta"


def write_jsonl(rows: list[dict[str, Any]], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def native_table(examples: list[Example]):
    """A pyarrow Table of Examples with a fixed schema (``meta`` as JSON text)."""
    import pyarrow as pa

    schema = pa.schema(
        [(k, pa.list_(pa.string()) if k == "choices" else pa.string()) for k in FIELDS],
        metadata={META_ENCODING_KEY: b"json"},
    )
    rows = [
        {**ex.to_dict(), "meta": json.dumps(ex.meta, ensure_ascii=False, sort_keys=True, default=str)}
        for ex in examples
    ]
    return pa.Table.from_pylist(rows, schema=schema)


def rows_table(rows: list[dict[str, Any]]):
    """A pyarrow Table from rows of nested values; any top-level ``meta`` dict becomes JSON text."""
    import pyarrow as pa

    fixed = [
        {**r, "meta": json.dumps(r["meta"], ensure_ascii=False, sort_keys=True, default=str)}
        if "meta" in r
        else r
        for r in rows
    ]
    return pa.Table.from_pylist(fixed)


def write_parquet(table, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, path)
