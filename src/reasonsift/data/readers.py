"""Raw records out of files: JSONL, JSON arrays, Parquet and Hugging Face ``datasets`` directories.

A reader only parses; importers (``formats/``) turn records into Examples. Problems with one record
(invalid JSON, bad bytes, too deep, a number too long) are attached to that record so that
``on_error="skip"`` can keep going; problems with the whole file (empty, not the claimed format,
unreadable) raise :class:`DataError` at once.

Every input is read exactly once, into memory, and its format is sniffed from those bytes: a pipe, a FIFO
or ``-`` (standard input) cannot be read a second time, and reading the head first and the file again
later silently lost what the first read consumed.
"""

from __future__ import annotations

import json
import re
import stat
import sys
from pathlib import Path
from typing import Any

from reasonsift.data.errors import Problem
from reasonsift.data.hub import read_disk, read_hub
from reasonsift.data.raw import RawRecord, RawSource, file_problem, json_type
from reasonsift.data.runs import is_run_dir, read_run

PARQUET_MAGIC = b"PAR1"
STDIN = "-"  # the path that means standard input
STDIN_NAME = "<stdin>"  # how standard input is named in problems and ``source``
# Deeper records are refused: they are never real data, and writers (json, Arrow) recurse per level.
MAX_DEPTH = 100
# Python refuses int <-> str conversions beyond this many digits (sys.get_int_max_str_digits).
MAX_INT_DIGITS = 4300
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

__all__ = ["RawRecord", "RawSource", "file_problem", "json_type", "read_raw", "STDIN"]


class _BigInt(str):
    """An integer literal too long for ``int()``: kept as its digits so the record can name it."""


def _parse_int(text: str) -> int | _BigInt:
    return _BigInt(text) if len(text.lstrip("-")) > MAX_INT_DIGITS else int(text)


class _Constant(str):
    """``NaN``/``Infinity``, which Python's json accepts but JSON does not: kept to be named as a problem."""


def _loads(text: str) -> Any:
    return json.loads(text, parse_int=_parse_int, parse_constant=_Constant)


def read_raw(path: str | Path, *, split: str = "train") -> RawSource:
    """Read every record of ``path``: a file, ``-`` (stdin), a ``save_to_disk`` directory, or a hub id."""
    spath = str(path)
    if spath == STDIN:
        if sys.stdin is None or sys.stdin.isatty():  # waiting on a terminal would look like a hang
            raise file_problem(STDIN_NAME, "standard input is a terminal; pipe data in (cat x.jsonl | ...)")
        return read_bytes(STDIN_NAME, sys.stdin.buffer.read(), name=STDIN_NAME, stem="stdin")
    p = Path(path)
    if not p.exists():
        if _HUB_ID.match(spath) and p.suffix.lower() not in _EXTENSIONS:
            return read_hub(spath, split=split)
        raise FileNotFoundError(f"{spath}: no such file or directory")
    if p.is_dir():
        if is_run_dir(p):
            return read_run(p)
        return read_disk(p, split=split)
    mode = p.stat().st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):  # /dev/zero would be read until memory runs out
        raise file_problem(
            spath, "not a file, pipe or FIFO (a device or socket); pass a file, or pipe to '-'"
        )
    with open(p, "rb") as fh:  # once: a pipe or FIFO gives its bytes only to the first reader
        data = fh.read()
    return read_bytes(spath, data, suffix=p.suffix)


def read_bytes(
    spath: str, data: bytes, *, suffix: str = "", name: str | None = None, stem: str | None = None
) -> RawSource:
    """Records of one input already read into memory; ``suffix`` is the claimed extension ("" = sniff)."""
    container = _container(spath, data[:4096], suffix)
    p = Path(spath)
    src = RawSource(spath, name or p.name, stem or p.stem, container)
    if container == "parquet":
        src.records = _read_parquet(spath, data)
    elif container == "jsonl":
        src.records = _read_jsonl(spath, data)
    else:
        src.records = _read_json_array(spath, data)
    if not src.records:
        raise file_problem(spath, "empty file (no records)")
    return src


def _container(spath: str, head: bytes, suffix: str) -> str:
    """The container format from the extension, checked against the input's first bytes."""
    if not head.strip():
        raise file_problem(spath, "empty file (no records)")
    suffix = suffix.lower()
    if suffix in (".csv", ".tsv"):
        raise file_problem(spath, "CSV/TSV is not supported; convert it to JSONL or Parquet first")
    claimed = _EXTENSIONS.get(suffix)
    is_parquet = head.startswith(PARQUET_MAGIC)
    if claimed is None:  # unknown extension (or stdin): trust the content
        if is_parquet:
            return "parquet"
        first = head.lstrip().removeprefix(b"\xef\xbb\xbf")[:1]
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


def _read_jsonl(spath: str, data: bytes, first_line: int = 1) -> list[RawRecord]:
    """Records of JSONL bytes whose first line is line ``first_line`` of the file (a chunk of it)."""
    out: list[RawRecord] = []
    for i, bline in enumerate(data.split(b"\n"), first_line):
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
            obj = _loads(text)
        except json.JSONDecodeError as e:
            if not out and first_line == 1 and text.lstrip()[:1] not in ("{", "[") and "," in text:
                raise file_problem(
                    spath,
                    f"not JSONL: line {i} looks like a CSV header ({text[:60]!r}); convert it to JSONL or Parquet",
                ) from None
            msg = f"invalid JSON: {e.msg} (column {e.colno})"
            out.append(RawRecord(i, None, text, Problem(spath, i, None, msg)))
            continue
        except RecursionError:
            msg = f"invalid JSON: nested deeper than {MAX_DEPTH} levels"
            out.append(RawRecord(i, None, text, Problem(spath, i, None, msg)))
            continue
        out.append(_object_record(spath, i, obj, text))
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
        obj = _loads(text)
    except json.JSONDecodeError as e:
        if text.lstrip()[:1] == "{":  # a .json file of one object per line, as `datasets` also accepts
            return _read_jsonl(spath, data)
        raise file_problem(spath, f"invalid JSON: {e.msg} (text line {e.lineno}, column {e.colno})") from None
    except RecursionError:
        raise file_problem(spath, f"invalid JSON: nested deeper than {MAX_DEPTH} levels") from None
    if isinstance(obj, dict) and len(text.strip().splitlines()) == 1:
        return [_object_record(spath, 1, obj)]  # one-line JSONL named .json
    if not isinstance(obj, list):
        raise file_problem(spath, f"a .json file must hold an array of objects, got {json_type(obj)}")
    return [_object_record(spath, i, v) for i, v in enumerate(obj, 1)]


def _object_record(spath: str, line: int, obj: Any, text: str | None = None) -> RawRecord:
    if not isinstance(obj, dict):
        msg = f"expected an object, got {json_type(obj)}"
        return RawRecord(line, None, obj, Problem(spath, line, None, msg))
    bad = _value_problem(obj)
    if bad is not None:  # the raw text, as the parsed value holds a placeholder or cannot be re-encoded
        return RawRecord(
            line, None, text if text is not None else str(obj)[:1000], Problem(spath, line, *bad)
        )
    return RawRecord(line, obj, obj)


def _value_problem(obj: dict[str, Any]) -> tuple[str | None, str] | None:
    """``(field, message)`` for a value no later stage can handle: too deep, an integer too long, NaN."""
    stack: list[tuple[Any, str | None, int]] = [(v, k, 1) for k, v in obj.items()]
    while stack:
        v, top, depth = stack.pop()
        if depth > MAX_DEPTH:
            return top, f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(v, _BigInt):
            return top, (
                f"integer of {len(v.lstrip('-'))} digits is longer than {MAX_INT_DIGITS} digits "
                "(Python's int/str limit); store it as a string"
            )
        if isinstance(v, _Constant):  # written back it would make the output invalid JSON
            return top, f"{v} is not valid JSON; use null, a number or a string"
        if isinstance(v, dict):
            stack += [(x, top, depth + 1) for x in v.values()]
        elif isinstance(v, list):
            stack += [(x, top, depth + 1) for x in v]
    return None


def _read_parquet(spath: str, data: bytes) -> list[RawRecord]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(pa.BufferReader(data)).to_pylist()
    except (pa.ArrowException, OSError) as e:
        raise file_problem(spath, f"not a readable Parquet file: {e}") from None
    return [RawRecord(i, r, r) for i, r in enumerate(rows, 1)]
