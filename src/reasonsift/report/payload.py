"""The JSON the page renders from: one compact record per shown example plus run metadata.

Token strings are interned in one table (``S``) and referenced by index, and floats are rounded, which
keeps a few hundred examples with top-k alternatives to a few MB. ``script_json`` makes the JSON safe to
embed in ``<script type="application/json">``: no ``</script>``, comment or entity can end or alter it.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

# Per-token float columns and their decimals: H needs small values (the 0.01 boundary), log-probs less.
_DECIMALS = {"entropy": 4, "logprob": 3}
# JSON can carry these unescaped inside strings, but HTML parsing (``</script>``, ``<!--``) and JS line
# terminators (U+2028/9, in old engines) cannot; their \u escapes mean the same string to JSON.parse.
_SCRIPT_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def script_json(obj: Any) -> str:
    """``obj`` as JSON that can sit verbatim inside a ``<script type="application/json">`` element."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for ch, esc in _SCRIPT_ESCAPES:  # str.replace is C-speed; str.translate to strings is not
        text = text.replace(ch, esc)
    return text


def clean(v: Any, decimals: int | None = None) -> Any:
    """JSON-safe scalar: NaN/inf -> None, floats rounded to ``decimals`` (or 4 significant digits)."""
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        if decimals is not None:
            return round(v, decimals)
        return float(f"{v:.4g}")
    return v


def clean_list(values: list[Any], decimals: int | None = None) -> list[Any]:
    """``clean`` over a list of numbers, vectorised: (n,) -> n JSON-safe values (None for NaN/inf)."""
    arr = np.asarray(values, dtype=np.float64)
    if decimals is None or arr.size == 0:
        return [clean(v, decimals) for v in values]
    out = np.round(arr, decimals).tolist()
    ok = np.isfinite(arr)
    if not ok.all():
        out = [v if good else None for v, good in zip(out, ok.tolist(), strict=True)]
    return out


def clean_ragged(rows: list[list[Any]], decimals: int) -> list[list[Any]]:
    """``clean_list`` over a list of lists (e.g. top-k log-probs per token), keeping each inner length."""
    rows = [r or [] for r in rows]
    flat = clean_list([v for r in rows for v in r], decimals)
    out, k = [], 0
    for r in rows:
        out.append(flat[k : k + len(r)])
        k += len(r)
    return out


class StringTable:
    """Interns strings: ``index(s)`` returns the same int for equal strings; ``strings`` is the table."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self._ids: dict[str, int] = {}

    def indices(self, strings: list[str | None]) -> list[int]:
        get, out = self._ids.get, []
        for s in strings:
            i = get(s)
            out.append(i if i is not None else self.index(s))
        return out

    def index(self, s: str | None) -> int:
        s = "" if s is None else s
        i = self._ids.get(s)
        if i is None:
            i = self._ids[s] = len(self.strings)
            self.strings.append(s)
        return i


def _mask_indices(mask: list[bool] | None, n: int) -> list[int] | None:
    """Positions where ``mask`` is true; None when the mask is absent or its length is not ``n``."""
    if mask is None or len(mask) != n:
        return None
    return [i for i, m in enumerate(mask) if m]


def example_record(
    row: dict[str, Any],
    table: StringTable,
    score_columns: list[str],
    pool_masks: dict[str, list[bool]] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The page's record for one example row (schema: ``docs/profile-schema.md``) and any warnings."""
    warnings: list[str] = []
    tokens = row.get("tokens") or []
    n = len(tokens)
    rec: dict[str, Any] = {
        "id": str(row.get("id", "")),
        "domain": row.get("domain") or "",
        "format": row.get("format") or "",
        "q": row.get("question") or "",
        "a": row.get("answer") or "",
        "s": {c: clean(row.get(c)) for c in score_columns},
        "t": table.indices(tokens),
    }
    if rec["s"].get("n_tokens") is None and "n_tokens" in score_columns:
        rec["s"]["n_tokens"] = n
    for col, key in (
        ("entropy", "H"),
        ("logprob", "lp"),
        ("rank", "r"),
        ("segment", "seg"),
        ("step", "step"),
    ):
        vals = row.get(col)
        if vals is None:
            continue
        if len(vals) != n:
            warnings.append(f"{rec['id']}: {col} has {len(vals)} values for {n} tokens; not shown")
            continue
        rec[key] = clean_list(vals, _DECIMALS.get(col, 0)) if col in _DECIMALS else list(vals)
    tops, top_lps = row.get("top_tokens"), row.get("top_logprobs")
    if tops is not None and top_lps is not None and len(tops) == n == len(top_lps):
        rec["tt"] = [table.indices(alts or []) for alts in tops]
        rec["tl"] = clean_ragged(top_lps, 3)
    masks = {}
    for name, mask in (*(pool_masks or {}).items(), ("sequence", row.get("forking_sequence"))):
        idx = _mask_indices(mask, n)
        if idx is not None:
            masks[name] = idx
        elif mask is not None:
            warnings.append(
                f"{rec['id']}: forking mask '{name}' has {len(mask)} values for {n} tokens; not shown"
            )
    rec["fk"] = masks
    ig = {k: [clean(v) for v in row[c]] for k, c in (("nll", "ig_nll"), ("gains", "ig_gains")) if row.get(c)}
    if ig:
        rec["ig"] = ig
    return rec, warnings
