"""`reasonsift profile`."""

from __future__ import annotations


def profile() -> None:
    """Profile a dataset with a student model (not yet built)."""
    raise SystemExit("reasonsift profile: not implemented yet")
