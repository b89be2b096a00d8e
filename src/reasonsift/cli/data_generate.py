"""`reasonsift data generate` (built-in tasks and ``gym:<dataset>``) and `reasonsift data corrupt`."""

from __future__ import annotations

from pathlib import Path

import typer

from reasonsift.cli.common import config_option, default, load_config, out, progress, user_errors
from reasonsift.data.corrupt import CorruptConfig
from reasonsift.data.generate import GenerateConfig

G, K = GenerateConfig, CorruptConfig  # every default lives in these; none is restated here
_PROGRESS_MIN = 500  # below this, generation is instant and a bar is noise
_OUT_HELP = "Output file (.jsonl or .parquet)."


def generate(
    ctx: typer.Context,
    task: str = typer.Argument(
        None,
        metavar="TASK",
        show_default=False,
        help="Task name: arith, maze, logic, or gym:<reasoning-gym dataset>.",
    ),
    n: int = typer.Option(default(G, "n"), "-n", help="Number of examples."),
    seed: int = typer.Option(
        default(G, "seed"), "--seed", help="Seed; item i is reproducible from (task, seed, split, i)."
    ),
    format: str = typer.Option(default(G, "format"), "--format", help="free_form or multiple_choice."),
    split: str = typer.Option(
        default(G, "split"), "--split", help="train, test or ood (ood: harder than train/test)."
    ),
    difficulty: int = typer.Option(
        default(G, "difficulty"),
        "--difficulty",
        help="Difficulty 1..5 (task default when omitted; not for gym tasks).",
    ),
    start: int = typer.Option(
        default(G, "start"), "--start", help="Index of the first item (to extend a dataset)."
    ),
    output: Path = typer.Option(None, "--out", "-o", "--output", metavar="FILE", help=_OUT_HELP),
    config: Path = config_option(),
) -> None:
    """Generate a dataset of a built-in task (with reference traces) or of a reasoning-gym dataset."""
    from reasonsift.data.generate import main

    cfg = load_config(ctx, GenerateConfig, config, rename={"output": "out"}, required=("task", "out"))
    with user_errors(ctx):
        if cfg.n < _PROGRESS_MIN:
            examples = main(cfg)
        else:
            with progress() as bar:
                job = bar.add_task(f"generate {cfg.task}", total=cfg.n)
                examples = main(cfg, on_item=lambda: bar.advance(job))
    out.print(f"wrote {len(examples)} {cfg.task} examples ({cfg.split}, {cfg.format}) to {cfg.out}")


def corrupt(
    ctx: typer.Context,
    inp: Path = typer.Argument(
        None, metavar="INPUT", show_default=False, help="Input dataset (any format `reasonsift data` reads)."
    ),
    mode: str = typer.Option(None, "--mode", help="swap, shuffle, perturb or drop."),
    seed: int = typer.Option(default(K, "seed"), "--seed", help="Seed of the corruption."),
    rate: float = typer.Option(
        default(K, "rate"), "--rate", help="perturb: probability that each number changes."
    ),
    output: Path = typer.Option(None, "--out", "-o", "--output", metavar="FILE", help=_OUT_HELP),
    config: Path = config_option(),
) -> None:
    """Corrupt the traces of a dataset (answers kept); the mode is recorded in each example's meta."""
    from reasonsift.data.corrupt import main

    cfg = load_config(ctx, CorruptConfig, config, rename={"output": "out"}, required=("inp", "mode", "out"))
    with user_errors(ctx):
        corrupted = main(cfg)
    out.print(f"wrote {len(corrupted)} examples with {cfg.mode} traces to {cfg.out}")
