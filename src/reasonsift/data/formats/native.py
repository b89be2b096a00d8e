"""reasonsift's own format: one column per Example field (``meta`` may be a JSON string, as in Parquet)."""

from __future__ import annotations

from typing import Any

from reasonsift.data.example import FIELDS
from reasonsift.data.formats.base import Context, Importer, decode_json_object, has_columns


def convert(rec: dict[str, Any], ctx: Context) -> tuple[dict[str, Any], set[str]]:
    d = {k: rec[k] for k in FIELDS if k in rec}
    if "meta" in d:
        d["meta"] = decode_json_object(d["meta"], "meta")
    return d, set(FIELDS)


IMPORTER = Importer(
    "native",
    "reasonsift records: id, question, trace, answer, choices, format, domain, source, meta",
    convert,
    has_columns("id", "question", "answer"),
)
