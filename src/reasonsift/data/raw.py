"""The raw-record types every reader produces (``readers.py`` for files, ``hub.py`` for ``datasets``).

Kept apart from both readers so that neither imports the other for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reasonsift.data.errors import DataError, Problem


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
    container: str  # jsonl | json | parquet | hf | run (a run directory's example shards)
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
