"""`reasonsift data generate` (built-in tasks and ``gym:<dataset>``) and `reasonsift data corrupt`."""

from __future__ import annotations

from pathlib import Path

import typer

from reasonsift.cli.common import fail, out, progress, user_errors

_PROGRESS_MIN = 500  # below this, generation is instant and a bar is noise


def generate(
    task: str = typer.Argument(..., help="Task name: arith, maze, logic, or gym:<reasoning-gym dataset>."),
    n: int = typer.Option(100, "-n", help="Number of examples."),
    seed: int = typer.Option(0, "--seed", help="Seed; item i is reproducible from (task, seed, split, i)."),
    format: str = typer.Option("free_form", "--format", help="free_form or multiple_choice."),
    split: str = typer.Option("train", "--split", help="train, test or ood (ood: harder than train/test)."),
    difficulty: int | None = typer.Option(
        None, "--difficulty", help="Difficulty 1..5 (task default when omitted; not for gym tasks)."
    ),
    start: int = typer.Option(0, "--start", help="Index of the first item (to extend a dataset)."),
    output: Path = typer.Option(..., "-o", "--out", help="Output file (.jsonl or .parquet)."),
) -> None:
    """Generate a dataset of a built-in task (with reference traces) or of a reasoning-gym dataset."""
    from reasonsift.data.io import output_format, write_examples
    from reasonsift.tasks import get_task

    if n < 1:
        raise fail(f"n: {n} must be at least 1")
    with user_errors():
        output_format(output, None)
        t = get_task(task)
        kw = {"seed": seed, "split": split, "difficulty": difficulty, "format": format}
        t.example(start, **kw)  # fail fast on a bad option before any progress bar
        try:
            if n < _PROGRESS_MIN:
                examples = t.generate(n, start=start, **kw)
            else:
                examples = []
                with progress() as bar:
                    job = bar.add_task(f"generate {task}", total=n)
                    for i in range(start, start + n):
                        examples.append(t.example(i, **kw))
                        bar.advance(job)
        except NotImplementedError as e:
            raise fail(str(e)) from None
        write_examples(examples, output)
    out.print(f"wrote {len(examples)} {task} examples ({split}, {format}) to {output}")


def corrupt(
    input: Path = typer.Argument(..., help="Input dataset (any format `reasonsift data` reads)."),
    mode: str = typer.Option(..., "--mode", help="swap, shuffle, perturb or drop."),
    seed: int = typer.Option(0, "--seed", help="Seed of the corruption."),
    rate: float = typer.Option(0.3, "--rate", help="perturb: probability that each number changes."),
    output: Path = typer.Option(..., "-o", "--out", help="Output file (.jsonl or .parquet)."),
) -> None:
    """Corrupt the traces of a dataset (answers kept); the mode is recorded in each example's meta."""
    from reasonsift.data.convert import check_paths
    from reasonsift.data.io import output_format, read_examples, write_examples
    from reasonsift.tasks.corrupt import corrupt as corrupt_examples

    with user_errors():
        output_format(output, None)
        check_paths(str(input), output, None)  # writing over the input would lose it
        examples = read_examples(input).examples
        corrupted = corrupt_examples(examples, mode, seed=seed, rate=rate)
        write_examples(corrupted, output)
    out.print(f"wrote {len(corrupted)} examples with {mode} traces to {output}")
