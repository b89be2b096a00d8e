"""reasoning-gym items: ``question``, ``answer``, ``metadata`` (with ``source_dataset``/``source_index``).

``metadata`` becomes ``meta``; ``domain`` is the gym dataset name and ``source`` its ``dataset:index``, the
provenance reasoning-gym itself records.
"""

from __future__ import annotations

from typing import Any

from reasonsift.data.formats.base import (
    Context,
    FieldProblem,
    Importer,
    decode_json_object,
    extra_fields,
    has_columns,
    need,
)


def convert(rec: dict[str, Any], ctx: Context) -> tuple[dict[str, Any], set[str]]:
    d, used = extra_fields(rec, ctx)
    d.update(question=need(rec, "question"), answer=need(rec, "answer"))
    used |= {"question", "answer"}
    if "trace" in rec:
        d["trace"] = rec["trace"]
        used.add("trace")
    if "metadata" in rec:
        md = decode_json_object(rec["metadata"], "metadata")
        if md is not None and not isinstance(md, dict):
            raise FieldProblem("metadata", f"expected an object, got {type(md).__name__}")
        md = md or {}
        d["meta"] = {**md, **(d.get("meta") or {})}
        used.add("metadata")
        name, index = md.get("source_dataset"), md.get("source_index")
        if isinstance(name, str) and name:
            d.setdefault("domain", name)
            if index is not None and "source" not in rec:
                d["source"] = f"{name}:{index}"
    return d, used


IMPORTER = Importer(
    "gym", "reasoning-gym items: question, answer, metadata", convert, has_columns("question", "answer")
)
