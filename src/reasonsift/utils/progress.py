"""One rich progress-bar style for every long job (library and CLI)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True)


def progress(*extra, description: str = "{task.description}", **kw) -> Progress:
    """A bar with count, extra columns (e.g. ``TextColumn("{task.fields[tps]:.0f} tok/s")``), elapsed, remaining."""
    return Progress(
        TextColumn(f"[bold]{description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *extra,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=kw.pop("console", console),
        **kw,
    )
