"""`reasonsift view`: a profile run directory -> one static, self-contained HTML token viewer."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from reasonsift.cli.common import console, out, progress, user_errors


def view(
    run_dir: Path = typer.Argument(..., help="Profile run directory written by `reasonsift profile`."),
    output: Path = typer.Option(
        None, "--output", "-o", help="HTML file to write (default: RUN_DIR/viewer.html)."
    ),
    max_examples: int = typer.Option(
        None,
        "--max-examples",
        min=0,
        help="Embed only the first N examples (input order) to keep the file small; the page shows how "
        "many were omitted and the dataset plots still cover all examples.",
    ),
) -> None:
    """Render a profile run as a static HTML token viewer: tokens coloured by entropy, forking tokens
    marked, per-step information gain, dataset plots and a sortable example list. No server or network."""
    from reasonsift.report.viewer import render_viewer

    target = output if output is not None else run_dir / "viewer.html"
    with user_errors(), progress() as bar:
        task = bar.add_task("reading shards", total=None)

        def on_shard(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        def on_incomplete(notes: list[str]) -> None:
            for note in notes:
                console.print(f"[bold yellow]warning:[/] incomplete run: {escape(note)}", soft_wrap=True)

        path = render_viewer(
            run_dir, target, max_examples=max_examples, on_shard=on_shard, on_incomplete=on_incomplete
        )
    size = path.stat().st_size
    console.print(f"wrote {path} ({size / 1e6:.2f} MB)", highlight=False)
    out.print(str(path), highlight=False, soft_wrap=True)
