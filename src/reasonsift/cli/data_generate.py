"""`reasonsift data generate` and `reasonsift data corrupt`."""

from __future__ import annotations


def generate() -> None:
    """Generate a built-in task dataset (not yet built)."""
    raise SystemExit("not implemented yet")


def corrupt() -> None:
    """Corrupt the traces of a dataset (not yet built)."""
    raise SystemExit("not implemented yet")
