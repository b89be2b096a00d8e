"""Errors for bad input: every problem names the file, the line (JSONL line or Parquet row) and the field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem with one input record, reported as ``path:line: field: message``."""

    path: str
    line: (
        int | None
    )  # 1-based JSONL line / JSON array index + 1 / Parquet row + 1; None for whole-file problems
    field: str | None
    message: str

    def __str__(self) -> str:
        loc = self.path if self.line is None else f"{self.path}:{self.line}"
        fld = self.field or "-"
        return f"{loc}: {fld}: {self.message}"


class DataError(ValueError):
    """Raised on bad input; carries one or more :class:`Problem` s."""

    def __init__(self, problems: Problem | list[Problem]):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        shown = "\n".join(str(p) for p in self.problems[:20])
        more = len(self.problems) - 20
        if more > 0:
            shown += f"\n... and {more} more problem(s)"
        super().__init__(shown)
