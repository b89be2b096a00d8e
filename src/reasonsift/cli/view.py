"""`reasonsift view`."""

from __future__ import annotations


def view() -> None:
    """Render a profile run as a static HTML token viewer (not yet built)."""
    raise SystemExit("reasonsift view: not implemented yet")
