"""Raw records out of files: JSONL, JSON arrays, Parquet and Hugging Face ``datasets`` directories.

A reader only parses; importers (``formats/``) turn records into Examples. Problems with one record
(invalid JSON, bad bytes) are attached to that record so that ``on_error="skip"`` can keep going; problems
with the whole file (empty, not the claimed format, unreadable) raise :class:`DataError` at once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reasonsift.data.errors import DataError, Problem

PARQUET_MAGIC = b"PAR1"
_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_NAMES = {"jsonl": "JSONL", "json": "a JSON array", "parquet": "Parquet"}
# owner/name as the Hub spells repository ids; only tried when no such local path exists.
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass
class RawRecord:
    """One input record: ``line`` is the JSONL line / JSON array index + 1 / Parquet row + 1."""

    line: int
    record: dict[str, Any] | None  # None when the record could not be parsed
    raw: Any  # what a rejects file keeps: the parsed value, or the raw text of the line
    problem: Problem | None = None


@dataclass
class RawSource:
    """All records of one input, plus the names used for provenance (``source``) and default ids."""

    path: str
    name: str  # file name or hub id, used in ``source``
    stem: str  # used in default ids ``<stem>-<line>``
    container: str  # jsonl | json | parquet | hf
    records: list[RawRecord] = field(default_factory=list)

    def columns(self) -> list[str]:
        """Every key seen in any parsed record, in order of first appearance."""
        seen: dict[str, None] = {}
        for r in self.records:
            if r.record is not None:
                seen.update(dict.fromkeys(r.record))
        return list(seen)


def file_problem(path: str, message: str) -> DataError:
    return DataError(Problem(str(path), None, None, message))


def json_type(v: Any) -> str:
    """The JSON name of a parsed value's type, for messages."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(v), "number" if isinstance(v, int | float) else type(v).__name__)


def read_raw(path: str | Path, *, split: str = "train") -> RawSource:
    """Read every record of ``path`` (a file, a ``save_to_disk`` directory, or a hub id)."""
    spath = str(path)
    p = Path(path)
    if not p.exists():
        if _HUB_ID.match(spath) and p.suffix.lower() not in _EXTENSIONS:
            from reasonsift.data.hub import read_hub

            return read_hub(spath, split=split)
        raise FileNotFoundError(f"{spath}: no such file or directory")
    if p.is_dir():
        from reasonsift.data.hub import read_disk

        return read_disk(p, split=split)
    container = _container(p)
    src = RawSource(spath, p.name, p.stem, container)
    if container == "parquet":
        src.records = _read_parquet(p)
    else:
        data = p.read_bytes()
        src.records = _read_jsonl(spath, data) if container == "jsonl" else _read_json_array(spath, data)
    if not src.records:
        raise file_problem(spath, "empty file (no records)")
    return src


def _container(p: Path) -> str:
    """The container format from the extension, checked against the file's first bytes."""
    spath = str(p)
    with open(p, "rb") as fh:
        head = fh.read(4096)
    if not head.strip():
        raise file_problem(spath, "empty file (no records)")
    suffix = p.suffix.lower()
    if suffix in (".csv", ".tsv"):
        raise file_problem(spath, "CSV/TSV is not supported; convert it to JSONL or Parquet first")
    claimed = _EXTENSIONS.get(suffix)
    is_parquet = head.startswith(PARQUET_MAGIC)
    if claimed is None:  # unknown extension: trust the content
        if is_parquet:
            return "parquet"
        first = head.lstrip()[:1]
        if first in (b"{", b"["):
            return "json" if first == b"[" else "jsonl"
        raise file_problem(spath, "cannot tell the format; name the file .jsonl, .json or .parquet")
    if claimed != "parquet" and is_parquet:
        raise file_problem(
            spath, f"file is Parquet (starts with PAR1), not {_NAMES[claimed]}; rename it to .parquet"
        )
    if claimed == "parquet" and not is_parquet:
        looks = " (it looks like JSON; rename it to .jsonl)" if head.lstrip()[:1] in (b"{", b"[") else ""
        raise file_problem(spath, f"not a Parquet file (no PAR1 magic bytes){looks}")
    return claimed


def _read_jsonl(spath: str, data: bytes) -> list[RawRecord]:
    out: list[RawRecord] = []
    for i, bline in enumerate(data.split(b"\n"), 1):
        if not bline.strip():
            continue  # blank lines are not records
        try:
            text = bline.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError as e:
            raw = bline.decode("utf-8", "backslashreplace")
            msg = f"not valid UTF-8: byte 0x{bline[e.start]:02x} at column {e.start + 1}"
            out.append(RawRecord(i, None, raw, Problem(spath, i, None, msg)))
            continue
        if i == 1:
            text = text.removeprefix("\ufeff")  # a UTF-8 byte-order mark is harmless
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            if not out and text.lstrip()[:1] not in ("{", "[") and "," in text:
                raise file_problem(
                    spath,
                    f"not JSONL: line {i} looks like a CSV header ({text[:60]!r}); convert it to JSONL or Parquet",
                ) from None
            msg = f"invalid JSON: {e.msg} (column {e.colno})"
            out.append(RawRecord(i, None, text, Problem(spath, i, None, msg)))
            continue
        out.append(_object_record(spath, i, obj))
    return out


def _read_json_array(spath: str, data: bytes) -> list[RawRecord]:
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise file_problem(
            spath, f"not valid UTF-8: byte 0x{data[e.start]:02x} at byte {e.start} (text line {line})"
        ) from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        if text.lstrip()[:1] == "{":  # a .json file of one object per line, as `datasets` also accepts
            return _read_jsonl(spath, data)
        raise file_problem(spath, f"invalid JSON: {e.msg} (text line {e.lineno}, column {e.colno})") from None
    if isinstance(obj, dict) and len(text.strip().splitlines()) == 1:
        return [_object_record(spath, 1, obj)]  # one-line JSONL named .json
    if not isinstance(obj, list):
        raise file_problem(spath, f"a .json file must hold an array of objects, got {json_type(obj)}")
    return [_object_record(spath, i, v) for i, v in enumerate(obj, 1)]


def _object_record(spath: str, line: int, obj: Any) -> RawRecord:
    if isinstance(obj, dict):
        return RawRecord(line, obj, obj)
    return RawRecord(line, None, obj, Problem(spath, line, None, f"expected an object, got {json_type(obj)}"))


def _read_parquet(p: Path) -> list[RawRecord]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(p).to_pylist()
    except (pa.ArrowException, OSError) as e:
        raise file_problem(str(p), f"not a readable Parquet file: {e}") from None
    return [RawRecord(i, r, r) for i, r in enumerate(rows, 1)]
