"""`reasonsift model ...` verbs: pretrain, eval, info. Each parses options and calls library code."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from reasonsift.cli.common import console, out, user_errors

app = typer.Typer(no_args_is_help=True)


def _split_list(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


@app.command("pretrain")
def pretrain(
    out_dir: Path = typer.Option(..., "--out", "-o", help="Output model directory (a normal HF model dir)."),
    tasks: str = typer.Option("arith", "--tasks", help="Comma-separated built-in tasks to mix (uniformly)."),
    steps: int = typer.Option(
        3000, help="Optimizer steps (accuracy stays near 0 for ~1k steps, then climbs)."
    ),
    seed: int = typer.Option(0, help="Seed for data, initialisation and order."),
    mixture: str = typer.Option(
        "trace=1,answer=0,trace_only=0",
        help="Document kinds and weights: trace (q+trace+answer), answer (q+answer), trace_only (no question).",
    ),
    batch_size: int = typer.Option(32, help="Documents per step."),
    lr: float = typer.Option(2e-3, help="Peak learning rate (cosine decay after warmup)."),
    warmup_steps: int = typer.Option(100, help="Linear warmup steps."),
    difficulty: int | None = typer.Option(None, help="Task difficulty (default: each task's default)."),
    loss_on: str = typer.Option("all", help="Tokens in the loss: all, or assistant (the reply only)."),
    layers: int = typer.Option(4, help="Transformer layers (2 is 2x faster but learns far worse)."),
    hidden: int = typer.Option(128, help="Hidden size."),
    heads: int = typer.Option(4, help="Attention heads."),
    intermediate: int = typer.Option(512, help="MLP size."),
    checkpoint_every: int = typer.Option(500, help="Save a resumable checkpoint every K steps (0: never)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the latest checkpoint in --out."),
    eval_every: int = typer.Option(0, help="Greedy accuracy on the test split every K steps (0: never)."),
    device: str = typer.Option("auto", help="auto, cpu or cuda[:N]."),
) -> None:
    """Pretrain the built-in tiny Llama from scratch on a mixture of built-in tasks."""
    from reasonsift.train.mixture import parse_mixture
    from reasonsift.train.pretrain import PretrainConfig, main

    with user_errors():
        cfg = PretrainConfig(
            out_dir=str(out_dir),
            tasks=tasks,
            steps=steps,
            seed=seed,
            mixture=parse_mixture(mixture),
            batch_size=batch_size,
            lr=lr,
            warmup_steps=warmup_steps,
            difficulty=difficulty,
            loss_on=loss_on,
            num_layers=layers,
            hidden_size=hidden,
            num_heads=heads,
            intermediate_size=intermediate,
            checkpoint_every=checkpoint_every,
            resume=resume,
            eval_every=eval_every,
            device=device,
        )
        record = main(cfg)
    res = record["result"]
    out.print(
        f"saved {out_dir}: {res['steps']} steps, loss {res['final_loss']:.4f}, "
        f"{res['tokens']:,} tokens in {res['wall_s']:.0f} s ({res['tokens_per_s']:,.0f} tok/s)"
    )


@app.command("eval")
def eval_(
    model: str = typer.Argument(..., help="Model directory or Hugging Face id."),
    task: list[str] = typer.Option(["arith"], "--task", "-t", help="Task(s); repeat or comma-separate."),
    n: int = typer.Option(500, "-n", help="Items per task and split."),
    split: list[str] = typer.Option(["test"], "--split", help="test and/or ood; repeat or comma-separate."),
    seed: int = typer.Option(0, help="Seed of the evaluation items."),
    difficulty: int | None = typer.Option(None, help="Task difficulty (default: each task's default)."),
    batch_size: int = typer.Option(64, help="Prompts per generation batch (left-padded)."),
    max_new_tokens: int | None = typer.Option(
        None, help="Generation budget (default: 2x longest reference)."
    ),
    device: str = typer.Option("auto", help="auto, cpu or cuda[:N]."),
    dtype: str = typer.Option("auto", help="auto (bf16 on CUDA, fp32 on CPU), float32, bfloat16, float16."),
    json_out: Path | None = typer.Option(
        None, "--json", help="Also write scores and replies to this JSON file."
    ),
    trust_remote_code: bool = typer.Option(False, help="Run the model repository's own code (unsafe)."),
    allow_pickle: bool = typer.Option(False, help="Accept pickle (.bin) weights (unsafe)."),
) -> None:
    """Greedy exact-match accuracy by task and split."""
    from rich.table import Table

    from reasonsift.cli.common import progress
    from reasonsift.evaluate.accuracy import evaluate_accuracy
    from reasonsift.models.load import load
    from reasonsift.utils.io import atomic_write_text

    tasks, splits = _split_list(task), _split_list(split)
    with user_errors():
        m, tok = load(
            model, dtype=dtype, device=device, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle
        )
        with progress() as bar:
            tid = bar.add_task("generating", total=n * len(tasks) * len(splits))
            res = evaluate_accuracy(
                m, tok, tasks, n=n, splits=splits, seed=seed, difficulty=difficulty, batch_size=batch_size,
                max_new_tokens=max_new_tokens, on_batch=lambda k: bar.advance(tid, k),
            )  # fmt: skip
        if json_out:
            atomic_write_text(
                json_out, json.dumps({**res.to_dict(), "records": res.records}, indent=1) + "\n"
            )
    table = Table(title=f"verified accuracy: {model}")
    for col in ("task", "split", "n", "correct", "wrong", "no_answer", "timeout", "error", "accuracy"):
        table.add_column(col)
    for s in res.scores:
        counts = (s.n, s.correct, s.wrong, s.no_answer, s.timeout, s.error)
        table.add_row(s.task, s.split, *map(str, counts), f"{s.accuracy:.3f}")
    out.print(table)
    if any(s.timeout or s.error for s in res.scores):
        console.print("timeout/error: the verifier failed on these replies; they are not counted as wrong")


@app.command("info")
def info(
    model: str = typer.Argument(..., help="Model directory or Hugging Face id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    trust_remote_code: bool = typer.Option(False, help="Run the model repository's own code (unsafe)."),
    allow_pickle: bool = typer.Option(False, help="Accept pickle (.bin) weights (unsafe)."),
) -> None:
    """Architecture, parameter count, vocabulary, context length and chat template of a model."""
    from reasonsift.models.info import model_info

    with user_errors():
        facts = model_info(model, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle)
    if as_json:
        out.print_json(json.dumps(facts))
        return
    from rich.table import Table

    table = Table(title=str(model), show_header=False)
    for k, v in facts.items():
        table.add_row(k, f"{v:,}" if isinstance(v, int) else str(v))
    out.print(table)
    if facts.get("template") == "plain":
        console.print("no chat template: prompts use reasonsift's plain template (docs/models.md)")
