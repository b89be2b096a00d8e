"""`reasonsift retest CLAIM|all -o RUN`: each claim of the note as an experiment with a verdict (docs/retest.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from reasonsift.cli.common import config_option, console, flag, load_config, user_errors
from reasonsift.retest.runner import RetestConfig

D = RetestConfig.default


def retest(
    ctx: typer.Context,
    claim: str = typer.Argument(
        D("claim"), metavar="CLAIM", help="C1 ... C9, s1, limo, several separated by commas (C1,C2), or all."
    ),
    model: str = typer.Option(
        D("model"), "--model", "-m", metavar="MODEL", help="Student (default: built-in)."
    ),
    data: Path = typer.Option(
        D("data"), "--data", "-d", metavar="DATA", help="Training data (default: built-in tasks)."
    ),
    test_data: Path = typer.Option(
        D("test_data"), metavar="DATA", help="Held-out data (default: 20% of --data)."
    ),
    trained: str = typer.Option(
        D("trained"), metavar="MODEL", help="Post-trained --model for C2 and C6 (default: SFT it here)."
    ),
    seeds: int = typer.Option(D("seeds"), help="Seeds per arm (data order, sampling, adapter init)."),
    quick: bool = flag(D("quick"), "--quick", "Reduced sizes (every claim in minutes on 2 CPU cores)."),
    steps: int = typer.Option(D("steps"), help="Override the training steps of every arm."),
    n_test: int = typer.Option(D("n_test"), help="Override the number of held-out questions."),
    out_dir: Path = typer.Option(None, "--out", "-o", metavar="RUN", help="Run directory to write."),
    overwrite: bool = flag(D("overwrite"), "--overwrite", "Replace an existing run in RUN."),
    config: Path = config_option(),
) -> None:
    """Re-test claims on a model and data: arms, seeds, paired CIs, a verdict by a rule written beforehand;
    writes verdicts.json, report.md and report.html in RUN."""
    from reasonsift.retest.runner import main

    cfg = load_config(ctx, RetestConfig, config, required=("out_dir",))
    with user_errors(ctx):
        verdicts = main(cfg, on_claim=lambda c: console.print(f"re-testing {c}"))
    for cid, e in verdicts.items():
        k, u = (100, " points") if e["unit"] == "fraction" else (1, "")
        console.print(
            f"{cid}: {e['verdict']} ({e['rule_a']} - {e['rule_b']} = {k * e['effect']:+.3g}{u}, "
            f"95% CI [{k * e['ci_low']:+.3g}, {k * e['ci_high']:+.3g}])"
        )
    console.print(f"wrote {cfg.out_dir}/verdicts.json, report.md, report.html")
