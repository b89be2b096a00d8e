"""LIMO (arXiv 2502.03387): ``question``, ``solution`` (the reasoning chain) and ``answer``."""

from __future__ import annotations

from typing import Any

from reasonsift.data.formats.base import Context, Importer, extra_fields, has_columns, need, need_trace


def convert(rec: dict[str, Any], ctx: Context) -> tuple[dict[str, Any], set[str]]:
    d, used = extra_fields(rec, ctx)
    d.update(question=need(rec, "question"), trace=need_trace(rec, "solution"), answer=need(rec, "answer"))
    return d, used | {"question", "solution", "answer"}


IMPORTER = Importer(
    "limo",
    "LIMO: question, solution (the trace), answer",
    convert,
    has_columns("question", "solution", "answer"),
)
