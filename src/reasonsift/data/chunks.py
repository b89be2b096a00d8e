"""Reading a large input one shard at a time, so that no process holds all of it.

``profile --engine ray`` uses this for JSONL and Parquet files: the driver streams the file once in chunks of
``--shard-size`` records (:func:`plan_chunks`), reading and validating each chunk with the importer a
whole-file read uses, so a bad record is still reported as ``file:line: field: message`` before any actor
starts, and ids are checked unique across the whole file. It keeps only each chunk's location (a byte range
of the JSONL file, a row range of the Parquet file) and the ids. Each actor then reads its own chunk
(:func:`read_chunk`) with absolute line numbers, so records, default ids (``<stem>-<line>``) and errors are
those of a whole-file read. The format is detected on the first chunk and used for the rest.

JSON arrays, standard input, ``datasets`` directories and hub ids cannot be read in ranges: they are read
whole (:func:`chunkable` says which is which).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from reasonsift.data.errors import DataError
from reasonsift.data.example import Example
from reasonsift.data.raw import RawRecord, RawSource, file_problem
from reasonsift.data.readers import PARQUET_MAGIC, _read_jsonl
from reasonsift.data.validate import DuplicateIds

CHUNKED = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class Chunk:
    """Records ``first .. first + n - 1`` (0-based, = example indices): bytes ``[start, stop)`` of a JSONL
    file whose first line is ``first_line``, or rows ``[start, stop)`` of a Parquet file."""

    index: int
    first: int
    n: int
    start: int
    stop: int
    first_line: int


@dataclass
class ChunkPlan:
    path: str
    container: str  # jsonl | parquet
    fmt: str  # the importer detected on the first chunk (or given)
    field_map: dict[str, str] = field(default_factory=dict)
    size: int = 0  # records per chunk (the last may hold fewer)
    chunks: list[Chunk] = field(default_factory=list)

    @property
    def n(self) -> int:
        return sum(c.n for c in self.chunks)


def chunkable(path: str | os.PathLike | None) -> bool:
    """A regular JSONL or Parquet file (by its extension; the content is checked when read)."""
    if not path or str(path) == "-":
        return False
    p = Path(path)
    return p.suffix.lower() in CHUNKED and p.is_file()


def _container(path: Path) -> str:
    kind = CHUNKED[path.suffix.lower()]
    with open(path, "rb") as fh:
        head = fh.read(4)
    if (kind == "parquet") != (head == PARQUET_MAGIC):
        raise file_problem(str(path), f"the content does not match the extension {path.suffix} (PAR1 magic)")
    return kind


def _jsonl_ranges(path: Path, size: int, limit: int | None) -> Iterator[tuple[int, int, int, int]]:
    """``(start byte, stop byte, first line, records)`` of consecutive chunks of ``size`` non-blank lines."""
    start = pos = 0
    first_line, line, count = 1, 0, 0
    total = 0
    with open(path, "rb") as fh:
        for raw in fh:
            line += 1
            pos += len(raw)
            if raw.strip():
                count += 1
                total += 1
            if count == size or (limit is not None and total == limit):
                yield start, pos, first_line, count
                start, first_line, count = pos, line + 1, 0
                if limit is not None and total == limit:
                    return
    if count:
        yield start, pos, first_line, count


def _parquet_rows(path: str, start: int, stop: int) -> list[dict]:
    """Rows ``[start, stop)`` of a Parquet file, reading only the row groups that hold them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        groups, lo, offset = [], 0, None
        for g in range(pf.metadata.num_row_groups):
            hi = lo + pf.metadata.row_group(g).num_rows
            if hi > start and lo < stop:
                groups.append(g)
                offset = lo if offset is None else offset
            lo = hi
        if not groups:
            return []
        table = pf.read_row_groups(groups)
    except (pa.ArrowException, OSError) as e:
        raise file_problem(path, f"not a readable Parquet file: {e}") from None
    return table.slice(start - offset, stop - start).to_pylist()


def _source(path: str, container: str, chunk: Chunk) -> RawSource:
    p = Path(path)
    if container == "jsonl":
        with open(path, "rb") as fh:
            fh.seek(chunk.start)
            data = fh.read(chunk.stop - chunk.start)
        records = _read_jsonl(path, data, chunk.first_line)
    else:
        rows = _parquet_rows(path, chunk.start, chunk.stop)
        records = [RawRecord(chunk.start + k + 1, r, r) for k, r in enumerate(rows)]
    if len(records) != chunk.n:
        raise file_problem(path, f"changed while being read: chunk {chunk.index} holds {len(records)} records, "
                           f"expected {chunk.n}")  # fmt: skip
    return RawSource(path, p.name, p.stem, container, records)


def _import(src: RawSource, fmt: str | None, field_map: dict[str, str]) -> tuple[list[Example], str]:
    from reasonsift.data.io import import_source

    res = import_source(src, fmt=fmt, field_map=field_map)
    return res.examples, res.format


def read_chunk(plan: ChunkPlan, chunk: Chunk) -> list[Example]:
    """The examples of one chunk, as a whole-file read gives them (same importer, absolute line numbers)."""
    examples, _ = _import(_source(plan.path, plan.container, chunk), plan.fmt, plan.field_map)
    return examples


def plan_chunks(
    path: str | os.PathLike,
    size: int,
    *,
    fmt: str | None = None,
    field_map: dict[str, str] | None = None,
    limit: int | None = None,
) -> ChunkPlan:
    """Stream ``path`` once in chunks of ``size`` records (the first ``limit`` only): read and validate each,
    check ids unique across all of them, keep the locations. Raises :class:`DataError` as a whole-file read
    would (``file:line``); a duplicate id names both lines."""
    if size < 1:
        raise ValueError(f"size: expected >= 1, got {size}")
    p = Path(path)
    container = _container(p)
    plan = ChunkPlan(str(path), container, fmt or "", dict(field_map or {}), size=size)
    if container == "jsonl":
        ranges = list(_jsonl_ranges(p, size, limit))
    else:
        import pyarrow.parquet as pq

        try:
            rows = pq.ParquetFile(str(path)).metadata.num_rows
        except Exception as e:  # noqa: BLE001 - pyarrow raises several types for a broken footer
            raise file_problem(str(path), f"not a readable Parquet file: {e}") from None
        rows = min(rows, limit) if limit is not None else rows
        ranges = [(a, min(a + size, rows), a + 1, min(size, rows - a)) for a in range(0, rows, size)]
    if not ranges:
        raise file_problem(str(path), "empty file (no records)")
    dups = DuplicateIds()
    first = 0
    for k, (start, stop, first_line, n) in enumerate(ranges):
        chunk = Chunk(k, first, n, start, stop, first_line)
        src = _source(plan.path, container, chunk)
        examples, detected = _import(src, plan.fmt or None, plan.field_map)
        plan.fmt = plan.fmt or detected
        for ex, rec in zip(examples, src.records, strict=True):  # a chunk is all valid, or raised
            if dup := dups.check(ex, rec.line, plan.path):
                raise DataError(dup)
        plan.chunks.append(chunk)
        first += n
    return plan
