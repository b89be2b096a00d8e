"""One record -> an Example or its problems: importer, leftover columns into ``meta``, schema checks."""

from __future__ import annotations

from typing import Any

from reasonsift.data.errors import Problem
from reasonsift.data.example import Example, validate_fields
from reasonsift.data.formats import Context, FieldProblem, Importer

# Optional Example fields an importer may leave as None; replaced by the Example defaults.
_DEFAULTS = {"trace": "", "format": "free_form", "domain": "", "source": ""}


def import_record(
    importer: Importer, rec: dict[str, Any], ctx: Context, path: str
) -> tuple[Example | None, list[Problem]]:
    """Convert and check one record. Columns the importer did not use are kept in ``meta`` by name."""
    try:
        d, used = importer.convert(rec, ctx)
    except FieldProblem as e:
        return None, [Problem(path, ctx.line, e.field, e.message)]
    leftover = {k: v for k, v in rec.items() if k not in used}
    if leftover and (d.get("meta") is None or isinstance(d.get("meta"), dict)):
        meta = dict(d.get("meta") or {})
        clash = sorted(k for k in leftover if k in meta)
        if clash:
            return None, [Problem(path, ctx.line, clash[0], f"column {clash[0]!r} is also a key of meta")]
        d["meta"] = {**meta, **leftover}
    problems = [Problem(path, ctx.line, f, m) for f, m in validate_fields(d)]
    if problems:
        return None, problems
    for k, v in _DEFAULTS.items():
        if d.get(k) is None:
            d[k] = v
    if d.get("meta") is None:
        d["meta"] = {}
    if d.get("choices") is not None:
        d["choices"] = list(d["choices"])
    return Example.from_dict(d), []


class DuplicateIds:
    """Remembers ids by the line that first used them; a later record with the same id is a problem."""

    def __init__(self) -> None:
        self.first: dict[str, int] = {}

    def check(self, ex: Example, line: int, path: str) -> Problem | None:
        if ex.id in self.first:
            return Problem(path, line, "id", f"duplicate id {ex.id!r} (first at line {self.first[ex.id]})")
        self.first[ex.id] = line
        return None
