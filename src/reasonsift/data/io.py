"""Read and write Examples in every supported format: the data layer's public entry points.

``read_examples`` = a reader (``readers.py``/``hub.py``: JSONL, JSON array, Parquet, HF datasets) + an
importer (``formats/``: native, trl, s1k, limo, gym, verl; auto-detected from columns) + validation.
``write_examples`` writes native JSONL/Parquet or exports TRL/verl, atomically.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reasonsift.data.errors import DataError, Problem
from reasonsift.data.example import Example
from reasonsift.data.fieldmap import apply_field_map, check_field_map, field_map_problem, mapped_columns
from reasonsift.data.formats import FORMAT_NAMES, Context, detect, get_importer, trl, verl
from reasonsift.data.raw import RawSource
from reasonsift.data.readers import read_raw
from reasonsift.data.validate import DuplicateIds, import_record
from reasonsift.data.writers import native_table, rows_table, write_jsonl, write_parquet
from reasonsift.utils.io import atomic_path

ON_ERROR = ("fail", "skip")
WRITE_FORMATS = ("jsonl", "parquet", "trl", "verl")


@dataclass
class Reject:
    """A record that was not imported: the raw record (or raw text line) and why."""

    line: int
    raw: Any
    problems: list[Problem]

    @property
    def problem(self) -> Problem:
        return self.problems[0]

    @property
    def reason(self) -> str:
        return "; ".join(str(p) for p in self.problems)


@dataclass
class ReadResult:
    """``n_read == len(examples) + len(rejects)`` always holds."""

    examples: list[Example]
    rejects: list[Reject]
    n_read: int
    format: str = ""  # the importer used (detected or given)
    container: str = ""  # jsonl | json | parquet | hf
    problems: list[Problem] = field(default_factory=list)


def read_examples(
    path: str | os.PathLike,
    *,
    fmt: str | None = None,
    field_map: dict[str, str] | None = None,
    on_error: str = "fail",
    rejects_path: str | os.PathLike | None = None,
    split: str = "train",
) -> ReadResult:
    """Read, import and validate every record of ``path``.

    ``fmt``: None/"auto" detects the format from the columns; ``field_map`` renames columns first
    (``{"question": "problem"}``). ``on_error="fail"`` raises :class:`DataError` listing every problem;
    ``"skip"`` returns the rejects too, and writes them as JSONL to ``rejects_path`` when given. Problems
    with the whole file (empty, wrong format, undetectable) always raise.
    """
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error: expected one of {', '.join(ON_ERROR)}, got {on_error!r}")
    check_field_map(dict(field_map or {}))
    return import_source(
        read_raw(path, split=split),
        fmt=fmt,
        field_map=field_map,
        on_error=on_error,
        rejects_path=rejects_path,
    )


def import_source(
    src: RawSource,
    *,
    fmt: str | None = None,
    field_map: dict[str, str] | None = None,
    on_error: str = "fail",
    rejects_path: str | os.PathLike | None = None,
) -> ReadResult:
    """Import and validate the raw records of ``src`` (a whole input, or one chunk of it with its own line
    numbers: :mod:`reasonsift.data.chunks`); the options are :func:`read_examples`'."""
    field_map = dict(field_map or {})
    check_field_map(field_map)
    importer = None if fmt in (None, "auto") else get_importer(fmt)
    columns = src.columns()
    if columns and (why := field_map_problem(columns, field_map)):
        raise DataError(Problem(src.path, None, None, why))
    seen = mapped_columns(columns, field_map)
    if importer is None and columns:
        importer = detect(seen)
        if importer is None:
            raise DataError(
                Problem(
                    src.path,
                    None,
                    None,
                    f"cannot detect the format from columns {seen}; pass a format "
                    f"({', '.join(FORMAT_NAMES)}) or a field map",
                )
            )
    if importer is not None and columns and (miss := importer.missing(seen)):
        raise DataError(
            Problem(src.path, None, None, f"format {importer.name!r} needs {miss}; columns: {seen}")
        )
    examples: list[Example] = []
    rejects: list[Reject] = []
    dups = DuplicateIds()
    for rr in src.records:
        if rr.record is None:
            rejects.append(Reject(rr.line, rr.raw, [rr.problem]))  # type: ignore[list-item]
            continue
        rec = apply_field_map(rr.record, field_map)
        ex, problems = import_record(importer, rec, Context(src.name, src.stem, rr.line), src.path)  # type: ignore[arg-type]
        if ex is not None and (dup := dups.check(ex, rr.line, src.path)):
            ex, problems = None, [dup]
        if ex is None:
            rejects.append(Reject(rr.line, rr.raw, problems))
        else:
            examples.append(ex)
    problems = [p for r in rejects for p in r.problems]
    if problems and on_error == "fail":
        raise DataError(problems, n_read=len(src.records), n_rejected=len(rejects))
    if on_error == "skip" and rejects_path is not None:
        write_rejects(rejects, rejects_path)
    name = importer.name if importer else ""
    return ReadResult(examples, rejects, len(src.records), name, src.container, problems)


def write_rejects(rejects: list[Reject], path: str | os.PathLike) -> None:
    """JSONL, one line per reject: ``{"line", "reason", "record"}`` (record = raw object or raw text)."""
    # A rejected string may hold a lone surrogate: backslashreplace writes it as the JSON escape \udXXX.
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", errors="backslashreplace") as fh:
        for r in rejects:
            row = {"line": r.line, "reason": r.reason, "record": r.raw}
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def output_format(path: str | os.PathLike, to: str | None) -> str:
    """``to`` checked, or inferred from the extension (.jsonl -> jsonl, .parquet -> parquet)."""
    if to is None:
        suffix = Path(path).suffix.lower()
        if suffix in (".jsonl", ".parquet"):
            return suffix[1:]
        raise ValueError(f"to: cannot infer the output format from {str(path)!r}; use .jsonl or .parquet")
    if to not in WRITE_FORMATS:
        raise ValueError(f"to: expected one of {', '.join(WRITE_FORMATS)}, got {to!r}")
    if to == "verl" and Path(path).suffix.lower() != ".parquet":
        raise ValueError(f"to: verl data is Parquet; name the output .parquet, got {str(path)!r}")
    return to


def write_examples(
    examples: list[Example], path: str | os.PathLike, *, to: str | None = None, split: str = "train"
) -> int:
    """Write ``examples`` atomically; returns the number written.

    ``to``: jsonl | parquet (native records) | trl (``messages`` + extra columns; JSONL or Parquet by the
    extension) | verl (Parquet). Default from the extension.
    """
    kind = output_format(path, to)
    parquet = kind in ("parquet", "verl") or (kind == "trl" and Path(path).suffix.lower() == ".parquet")
    with atomic_path(path) as tmp:
        if kind in ("jsonl", "parquet"):
            if parquet:
                write_parquet(native_table(examples), tmp)
            else:
                write_jsonl([ex.to_dict() for ex in examples], tmp)
        else:
            rows = (
                [trl.export_row(ex) for ex in examples]
                if kind == "trl"
                else [verl.export_row(ex, i, split) for i, ex in enumerate(examples)]
            )
            if parquet:
                write_parquet(rows_table(rows), tmp)
            else:
                write_jsonl(rows, tmp)
    return len(examples)
