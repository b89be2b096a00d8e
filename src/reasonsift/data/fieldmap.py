"""Field maps: ``--map question=problem,answer=solution`` renames input columns before a format is detected.

``target=column`` means "the column called ``column`` in the file is used as ``target``". Targets are the
names the chosen importer reads (the Example fields for native; e.g. ``question``/``solution``/``answer``
for LIMO), so one map works for every format.
"""

from __future__ import annotations

from typing import Any


def parse_field_map(text: str | None) -> dict[str, str]:
    """Parse ``a=b,c=d`` into ``{"a": "b", "c": "d"}``; empty or None gives ``{}``."""
    out: dict[str, str] = {}
    if not text or not text.strip():
        return out
    for pair in text.split(","):
        target, sep, column = (s.strip() for s in pair.partition("="))
        if not sep or not target or not column:
            raise ValueError(f"--map: expected target=column pairs separated by commas, got {pair.strip()!r}")
        if target in out:
            raise ValueError(f"--map: target {target!r} is mapped twice")
        out[target] = column
    return out


def check_field_map(field_map: dict[str, str]) -> None:
    """Raise ``ValueError`` naming ``field_map`` when it is not a ``{str: str}`` of non-empty names."""
    for target, column in field_map.items():
        if not isinstance(target, str) or not isinstance(column, str) or not target or not column:
            raise ValueError(f"field_map: expected non-empty string names, got {target!r}={column!r}")


def field_map_problem(columns: list[str], field_map: dict[str, str]) -> str | None:
    """Why ``field_map`` cannot apply to a file with ``columns``: a column it names is absent, or it would
    silently replace a column the file already has (``question=problem`` over an existing ``question``)."""
    absent = [f"{t}={c}" for t, c in field_map.items() if c not in columns]
    if absent:
        return f"field map {', '.join(absent)}: no such column; columns: {columns}"
    sources = set(field_map.values())
    clash = [t for t, c in field_map.items() if t in columns and t not in sources and t != c]
    if clash:
        t = clash[0]
        return (
            f"field map {t}={field_map[t]}: the file already has a column {t!r}, which the map would drop; "
            f"map it away too (e.g. {t}={field_map[t]},{t}_original={t}) or drop that column first"
        )
    return None


def mapped_columns(columns: list[str], field_map: dict[str, str]) -> list[str]:
    """The column names an importer sees after ``field_map`` is applied to a file with ``columns``."""
    sources = set(field_map.values())
    kept = [c for c in columns if c not in sources]
    return kept + [t for t, c in field_map.items() if c in columns and t not in kept]


def apply_field_map(record: dict[str, Any], field_map: dict[str, str]) -> dict[str, Any]:
    """Rename the mapped columns of one record (a mapped column replaces a same-named original)."""
    if not field_map:
        return record
    sources = set(field_map.values())
    out = {k: v for k, v in record.items() if k not in sources}
    for target, column in field_map.items():
        if column in record:
            out[target] = record[column]
    return out
