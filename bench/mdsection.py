"""Write a benchmark's Markdown section into docs/benchmarks.md: replace the text between its markers, or
append it under a heading the first time. Shared by the bench scripts that own one marked section each."""

from __future__ import annotations

from pathlib import Path


def write_section(path: str | Path, md: str, begin: str, end: str, heading: str) -> None:
    """``md`` must start with ``begin`` and end with ``end``; ``heading`` is Markdown added before it once."""
    p = Path(path)
    text = p.read_text() if p.exists() else "# Benchmarks\n"
    if begin in text:
        a, b = text.index(begin), text.index(end) + len(end)
        text = text[:a] + md + text[b:]
    else:
        text += f"\n{heading.rstrip()}\n\n{md}\n"
    p.write_text(text)
