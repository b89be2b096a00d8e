"""`reasonsift demo`: the pipeline on built-in tasks and the built-in tiny model, offline."""

from __future__ import annotations

from pathlib import Path

import typer

from reasonsift.cli.common import config_option, load_config, user_errors
from reasonsift.demo import DemoConfig

D = DemoConfig.default  # every default lives in DemoConfig; none is restated here


def demo(
    ctx: typer.Context,
    out_dir: Path = typer.Option(D("out_dir"), "--out", "-o", metavar="DIR", help="Output directory."),
    n: int = typer.Option(D("n"), "-n", help="Examples per task, format and split written to OUT/data."),
    eval_n: int = typer.Option(D("eval_n"), help="Greedy-evaluation items per split (test, ood)."),
    profile_n: int = typer.Option(D("profile_n"), help="Held-out arith items to profile."),
    seed: int = typer.Option(D("seed"), help="Seed of the generated data."),
    model: str = typer.Option(
        D("model"),
        metavar="MODEL",
        help="Model directory or hub id (default: the built-in tiny-arith model).",
    ),
    config: Path = config_option(),
) -> None:
    """Generate every built-in task, take the built-in model, evaluate, profile, write the token viewer, then
    fine-tune on 10% of a pool chosen by a recipe, 10% at random and the whole pool, and compare them."""
    from reasonsift.demo import main

    cfg = load_config(ctx, DemoConfig, config)
    with user_errors(ctx):
        main(cfg)
