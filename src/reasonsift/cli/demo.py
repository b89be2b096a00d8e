"""`reasonsift demo`: the pipeline on built-in tasks and the built-in tiny model, offline."""

from __future__ import annotations

from pathlib import Path

import typer

from reasonsift.cli.common import user_errors


def demo(
    out_dir: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Run directory."),
    n: int = typer.Option(200, "-n", help="Examples per task, format and split written to OUT/data."),
    eval_n: int = typer.Option(200, help="Greedy-evaluation items per split (test, ood)."),
    profile_n: int = typer.Option(200, help="Held-out arith items to profile."),
    seed: int = typer.Option(0, help="Seed of the generated data."),
    model: str = typer.Option(
        None, help="Model directory or hub id (default: the built-in tiny-arith model)."
    ),
) -> None:
    """Generate every built-in task, take the built-in model, evaluate, profile, and write the token viewer."""
    from reasonsift.demo import DemoConfig, main

    with user_errors():
        main(
            DemoConfig(out_dir=str(out_dir), n=n, eval_n=eval_n, profile_n=profile_n, seed=seed, model=model)
        )
