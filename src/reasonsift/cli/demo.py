"""`reasonsift demo`: the whole pipeline on built-in tasks and the built-in tiny model."""

from __future__ import annotations

from pathlib import Path

import typer

from reasonsift.cli.common import out


def demo(
    out_dir: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Run directory."),
    n: int = typer.Option(200, "-n", help="Examples per task and variant."),
    seed: int = typer.Option(0, help="Seed."),
) -> None:
    """Run the demo: generate every built-in task, then (as later stages land) pretrain, profile and view."""
    from rich.table import Table

    from reasonsift.tasks import get_task, task_names

    table = Table(title="built-in tasks")
    for col in ("task", "format", "n", "mean trace chars", "example question"):
        table.add_column(col)
    for name in task_names():
        task = get_task(name)
        for fmt in ("free_form", "multiple_choice"):
            try:
                exs = task.generate(n, seed=seed, format=fmt)
            except NotImplementedError:
                continue
            mean = sum(len(e.trace) for e in exs) / len(exs)
            table.add_row(name, fmt, str(len(exs)), f"{mean:.1f}", exs[0].question[:40])
    out.print(table)
