"""A stage's run directory read as data: ``RUN/examples/part-*.parquet`` (a profile run) keeps every Example
field, so ``reasonsift data convert RUN -o out.jsonl`` (and select) read a run like any other dataset.

Only the Example fields are read (the per-token profile columns are not records' fields); a shard without its
completion marker means the run is unfinished, which is an error rather than a silently partial dataset.
"""

from __future__ import annotations

from pathlib import Path

from reasonsift.data.example import FIELDS
from reasonsift.data.raw import RawRecord, RawSource, file_problem


def is_run_dir(p: Path) -> bool:
    return (p / "examples").is_dir() and any((p / f).exists() for f in ("manifest.json", "config.json"))


def read_run(p: Path) -> RawSource:
    """Every row of the run's finished shards, in shard order (line = row number across shards, from 1)."""
    import pyarrow.parquet as pq

    shards = sorted((p / "examples").glob("part-*.parquet"))
    unfinished = [s.name for s in shards if not (s.parent / f"_{s.stem}.done").exists()]
    if unfinished:
        raise file_problem(
            str(p),
            f"run directory is unfinished: {', '.join(unfinished[:3])} has no completion marker; "
            "finish the run with --resume before reading it as data",
        )
    if not shards:
        raise file_problem(str(p), "run directory holds no example shards (examples/part-*.parquet)")
    src = RawSource(str(p), p.name, p.name, "run")
    line = 0
    for s in shards:
        names = pq.read_schema(s).names
        for row in pq.read_table(s, columns=[c for c in FIELDS if c in names]).to_pylist():
            line += 1
            src.records.append(RawRecord(line, row, row))
    if not src.records:
        raise file_problem(str(p), "empty run (no profiled examples)")
    return src
