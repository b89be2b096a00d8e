"""Format importers (one file each) and auto-detection from a file's columns."""

from __future__ import annotations

from reasonsift.data.formats import gym, limo, native, s1k, trl, verl
from reasonsift.data.formats.base import Context, FieldProblem, Importer

# Detection order matters: the most specific signature first. ``native`` needs an ``id`` column, so
# s1K/LIMO/gym files (which have none) fall through to their own importers.
IMPORTERS: dict[str, Importer] = {
    imp.name: imp
    for imp in (verl.IMPORTER, trl.IMPORTER, native.IMPORTER, s1k.IMPORTER, limo.IMPORTER, gym.IMPORTER)
}
FORMAT_NAMES = tuple(IMPORTERS)


def get_importer(name: str) -> Importer:
    try:
        return IMPORTERS[name]
    except KeyError:
        raise ValueError(
            f"fmt: unknown format {name!r}; choose from auto, {', '.join(FORMAT_NAMES)}"
        ) from None


def detect(columns: list[str]) -> Importer | None:
    """The first importer whose required columns are all present, or None."""
    for imp in IMPORTERS.values():
        if imp.missing(columns) is None:
            return imp
    return None


__all__ = ["FORMAT_NAMES", "IMPORTERS", "Context", "FieldProblem", "Importer", "detect", "get_importer"]
