"""`reasonsift view RUN_DIR`: a profile run directory -> one static, self-contained HTML token viewer."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from reasonsift.cli.common import config_option, console, load_config, out, progress, user_errors
from reasonsift.report.view import ViewConfig


def view(
    ctx: typer.Context,
    run_dir: Path = typer.Argument(
        None,
        metavar="RUN_DIR",
        show_default=False,
        help="Profile run directory written by `reasonsift profile`.",
    ),
    output: Path = typer.Option(
        None,
        "--out",
        "-o",
        "--output",
        metavar="FILE",
        help="HTML file to write (default: RUN_DIR/viewer.html).",
    ),
    max_examples: int = typer.Option(
        ViewConfig.default("max_examples"),
        "--max-examples",
        min=0,
        help="Embed only the first N examples (input order) to keep the file small; the page shows how "
        "many were omitted and the dataset plots still cover all examples.",
    ),
    config: Path = config_option(),
) -> None:
    """Render a profile run as a static HTML token viewer: tokens coloured by entropy, forking tokens
    marked, per-step information gain, dataset plots and a sortable example list. No server or network."""
    from reasonsift.report.view import main

    cfg = load_config(ctx, ViewConfig, config, rename={"output": "out"}, required=("run_dir",))
    with user_errors(ctx), progress() as bar:
        task = bar.add_task("reading shards", total=None)

        def on_shard(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        def on_incomplete(notes: list[str]) -> None:
            for note in notes:
                console.print(f"[bold yellow]warning:[/] incomplete run: {escape(note)}", soft_wrap=True)

        path = main(cfg, on_shard=on_shard, on_incomplete=on_incomplete)
    size = path.stat().st_size
    console.print(f"wrote {path} ({size / 1e6:.2f} MB)", highlight=False)
    out.print(str(path), highlight=False, soft_wrap=True)
