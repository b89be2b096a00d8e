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

    def __init__(
        self, problems: Problem | list[Problem], *, n_read: int | None = None, n_rejected: int | None = None
    ):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        self.n_read, self.n_rejected = n_read, n_rejected
        shown = "\n".join(str(p) for p in self.problems[:20])
        more = len(self.problems) - 20
        if more > 0:
            shown += f"\n... and {more} more problem(s)"
        if (line := self.balance()) is not None:
            shown += "\n" + line
        super().__init__(shown)

    def balance(self) -> str | None:
        """``read N = valid K + rejected R`` when the error came from reading records, else None."""
        if self.n_read is None or self.n_rejected is None:
            return None
        return f"read {self.n_read} = valid {self.n_read - self.n_rejected} + rejected {self.n_rejected}"
