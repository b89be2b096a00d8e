"""Segment a reasoning trace into steps. Pluggable: register a function ``str -> list[str]``."""

from __future__ import annotations

import re
from collections.abc import Callable

Segmenter = Callable[[str], list[str]]

_STEP_MARKER = re.compile(r"(?im)^\s*(?:step\s*\d+\s*[:.)]|\d+\s*[.)]\s)")

SEGMENTERS: dict[str, Segmenter] = {}


def register_segmenter(name: str) -> Callable[[Segmenter], Segmenter]:
    def deco(fn: Segmenter) -> Segmenter:
        SEGMENTERS[name] = fn
        return fn

    return deco


@register_segmenter("newline")
def by_newline(trace: str) -> list[str]:
    """One step per non-empty line."""
    return [s for s in (line.strip() for line in trace.splitlines()) if s]


@register_segmenter("semicolon")
def by_semicolon(trace: str) -> list[str]:
    """One step per ``;``-separated piece (the built-in arithmetic trace form ``27-40=-13;-13+88=75``)."""
    return [s for s in (p.strip() for p in trace.split(";")) if s]


@register_segmenter("markers")
def by_markers(trace: str) -> list[str]:
    """Split at explicit step markers at line starts (``Step 3:``, ``3.`` or ``3)``)."""
    starts = [m.start() for m in _STEP_MARKER.finditer(trace)]
    if not starts:
        return by_newline(trace)
    if starts[0] != 0 and trace[: starts[0]].strip():
        starts.insert(0, 0)
    bounds = starts + [len(trace)]
    return [s for s in (trace[a:b].strip() for a, b in zip(bounds, bounds[1:], strict=False)) if s]


@register_segmenter("auto")
def auto(trace: str) -> list[str]:
    """Explicit step markers if present, else lines if several, else ``;`` pieces, else the whole trace."""
    if not trace.strip():
        return []
    if len(_STEP_MARKER.findall(trace)) >= 2:
        return by_markers(trace)
    lines = by_newline(trace)
    if len(lines) > 1:
        return lines
    pieces = by_semicolon(trace)
    return pieces if len(pieces) > 1 else lines


def get_segmenter(name: str | Segmenter = "auto") -> Segmenter:
    if callable(name):
        return name
    try:
        return SEGMENTERS[name]
    except KeyError:
        raise ValueError(f"segmenter: unknown name {name!r}; choose from {sorted(SEGMENTERS)}") from None
