"""Small helpers shared by the filter stages: null checks, number formatting, parameter checks, ranking."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any


def is_null(v: Any) -> bool:
    """None, NaN of any float type (numpy float32 included) or ``pd.NA``: parquet nulls come back as any of
    these, depending on the reader."""
    if v is None:
        return True
    try:
        return bool(v != v)  # NaN is the one value not equal to itself
    except TypeError:  # pd.NA: its comparisons are NA, whose truth value raises
        return True


def fmt(v: Any) -> str:
    """A number as it appears in a reason: 3 significant digits (``1.12``, ``0.0417``, ``12``)."""
    if isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral):
        return f"{float(v):.3g}"
    return str(v)


def number(stage: str, name: str, v: Any, lo: float | None = None, hi: float | None = None) -> float:
    """Check that parameter ``name`` is a number in ``[lo, hi]``; ``ValueError`` naming it otherwise."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
        raise ValueError(f"{stage}: {name} must be a number, got {v!r}")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError(f"{stage}: {name} must be in [{lo}, {hi}], got {v!r}")
    return v


def integer(stage: str, name: str, v: Any, lo: int = 0) -> int:
    """Check that parameter ``name`` is an integer ``>= lo``; ``ValueError`` naming it otherwise."""
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise ValueError(f"{stage}: {name} must be an integer >= {lo}, got {v!r}")
    return v


def choice(stage: str, name: str, v: Any, options: Sequence[str]) -> str:
    if v not in options:
        raise ValueError(f"{stage}: {name} must be one of {', '.join(options)}, got {v!r}")
    return v


def top_count(fraction: float, n: int) -> int:
    """How many of ``n`` records a top ``fraction`` keeps: ``ceil(fraction * n)`` (so any fraction > 0 of a
    non-empty set keeps at least one); the epsilon keeps ``0.1 * 30`` at 3, not 4."""
    return min(n, math.ceil(fraction * n - 1e-9))


def rank(ids: Sequence[str], values: Sequence[float], descending: bool) -> list[int]:
    """Positions of the records ordered best first by ``values`` (``descending``: higher is better),
    ties broken by ``id`` ascending so the order never depends on the input order."""
    sign = -1.0 if descending else 1.0
    return sorted(range(len(ids)), key=lambda i: (sign * values[i], str(ids[i])))
