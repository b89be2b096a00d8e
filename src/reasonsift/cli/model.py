"""`reasonsift model ...` verbs: pretrain, eval, info. Each builds its config and calls library code."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from reasonsift.cli.common import (
    config_option,
    console,
    default,
    flag,
    load_config,
    out,
    progress,
    user_errors,
)
from reasonsift.evaluate.run import EvalConfig
from reasonsift.models.info import InfoConfig
from reasonsift.train.pretrain import PretrainConfig

app = typer.Typer(no_args_is_help=True)
P, E, M = PretrainConfig, EvalConfig, InfoConfig  # every default lives in these; none is restated here

_MODEL_HELP = "Model directory or Hugging Face id."
_REMOTE_HELP = "Run the model repository's own code (unsafe)."
_PICKLE_HELP = "Accept pickle (.bin) weights (unsafe)."


@app.command("pretrain")
def pretrain(
    ctx: typer.Context,
    out_dir: Path = typer.Option(
        None, "--out", "-o", metavar="MODEL_DIR", help="Output model directory (a normal HF model dir)."
    ),
    tasks: str = typer.Option(default(P, "tasks"), help="Comma-separated built-in tasks to mix (uniformly)."),
    steps: int = typer.Option(
        default(P, "steps"), help="Optimizer steps (accuracy stays near 0 for ~1k steps, then climbs)."
    ),
    seed: int = typer.Option(default(P, "seed"), help="Seed for data, initialisation and order."),
    mixture: str = typer.Option(
        default(P, "mixture"),
        help="Document kinds and weights: trace (q+trace+answer), answer (q+answer), trace_only (no question).",
    ),
    batch_size: int = typer.Option(default(P, "batch_size"), help="Documents per step."),
    lr: float = typer.Option(default(P, "lr"), help="Peak learning rate (cosine decay after warmup)."),
    warmup_steps: int = typer.Option(default(P, "warmup_steps"), help="Linear warmup steps."),
    difficulty: int = typer.Option(
        default(P, "difficulty"), help="Task difficulty (default: each task's default)."
    ),
    loss_on: str = typer.Option(
        default(P, "loss_on"), help="Tokens in the loss: all, or assistant (the reply only)."
    ),
    layers: int = typer.Option(
        default(P, "num_layers"), help="Transformer layers (2 is 2x faster but learns far worse)."
    ),
    hidden: int = typer.Option(default(P, "hidden_size"), help="Hidden size."),
    heads: int = typer.Option(default(P, "num_heads"), help="Attention heads."),
    intermediate: int = typer.Option(default(P, "intermediate_size"), help="MLP size."),
    checkpoint_every: int = typer.Option(
        default(P, "checkpoint_every"), help="Save a resumable checkpoint every K steps (0: never)."
    ),
    resume: bool = flag(
        default(P, "resume"), "--resume", "Continue from the latest checkpoint in MODEL_DIR."
    ),
    overwrite: bool = flag(default(P, "overwrite"), "--overwrite", "Replace an existing run in MODEL_DIR."),
    eval_every: int = typer.Option(
        default(P, "eval_every"), help="Greedy accuracy on the test split every K steps (0: never)."
    ),
    device: str = typer.Option(default(P, "device"), help="auto, cpu or cuda[:N]."),
    config: Path = config_option(),
) -> None:
    """Pretrain the built-in tiny Llama from scratch on a mixture of built-in tasks."""
    from reasonsift.train.pretrain import main

    rename = {"layers": "num_layers", "hidden": "hidden_size", "heads": "num_heads"}
    rename["intermediate"] = "intermediate_size"
    cfg = load_config(ctx, PretrainConfig, config, rename=rename, required=("out_dir",))
    with user_errors(ctx):
        record = main(cfg)
    res = record["result"]
    out.print(
        f"saved {cfg.out_dir}: {res['steps']} steps, loss {res['final_loss']:.4f}, "
        f"{res['tokens']:,} tokens in {res['wall_s']:.0f} s ({res['tokens_per_s']:,.0f} tok/s)"
    )


@app.command("eval")
def eval_(
    ctx: typer.Context,
    model: str = typer.Argument(None, metavar="MODEL", show_default=False, help=_MODEL_HELP),
    task: list[str] = typer.Option(
        default(E, "tasks").split(","), "--task", "-t", help="Task(s); repeat or comma-separate."
    ),
    n: int = typer.Option(default(E, "n"), "-n", help="Items per task and split."),
    split: list[str] = typer.Option(
        default(E, "splits").split(","), "--split", help="test and/or ood; repeat or comma-separate."
    ),
    seed: int = typer.Option(default(E, "seed"), help="Seed of the evaluation items."),
    difficulty: int = typer.Option(
        default(E, "difficulty"), help="Task difficulty (default: each task's default)."
    ),
    batch_size: int = typer.Option(
        default(E, "batch_size"), help="Prompts per generation batch (left-padded)."
    ),
    max_new_tokens: int = typer.Option(
        default(E, "max_new_tokens"), help="Generation budget (default: 2x longest reference)."
    ),
    device: str = typer.Option(default(E, "device"), help="auto, cpu or cuda[:N]."),
    dtype: str = typer.Option(
        default(E, "dtype"), help="auto (bf16 on CUDA, fp32 on CPU), float32, bfloat16, float16."
    ),
    out_path: Path = typer.Option(
        None, "--out", "-o", "--json", metavar="FILE", help="Also write scores and replies to this JSON file."
    ),
    trust_remote_code: bool = flag(default(E, "trust_remote_code"), "--trust-remote-code", _REMOTE_HELP),
    allow_pickle: bool = flag(default(E, "allow_pickle"), "--allow-pickle", _PICKLE_HELP),
    config: Path = config_option(),
) -> None:
    """Greedy exact-match accuracy by task and split."""
    from rich.table import Table

    from reasonsift.evaluate.run import main

    rename = {"task": "tasks", "split": "splits", "out_path": "out"}
    cfg = load_config(ctx, EvalConfig, config, rename=rename, required=("model",))
    with user_errors(ctx), progress() as bar:
        tid = bar.add_task("generating", total=cfg.n * len(cfg.tasks) * len(cfg.splits))
        res = main(cfg, on_batch=lambda k: bar.advance(tid, k))
    table = Table(title=f"verified accuracy: {cfg.model}")
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
    ctx: typer.Context,
    model: str = typer.Argument(None, metavar="MODEL", show_default=False, help=_MODEL_HELP),
    as_json: bool = flag(default(M, "as_json"), "--json", "Print JSON instead of a table."),
    trust_remote_code: bool = flag(default(M, "trust_remote_code"), "--trust-remote-code", _REMOTE_HELP),
    allow_pickle: bool = flag(default(M, "allow_pickle"), "--allow-pickle", _PICKLE_HELP),
    config: Path = config_option(),
) -> None:
    """Architecture, parameter count, vocabulary, context length and chat template of a model."""
    from reasonsift.models.info import main

    cfg = load_config(ctx, InfoConfig, config, required=("model",))
    with user_errors(ctx):
        facts = main(cfg)
    if cfg.as_json:
        out.print_json(json.dumps(facts))
        return
    from rich.table import Table

    table = Table(title=str(cfg.model), show_header=False)
    for k, v in facts.items():
        table.add_row(k, f"{v:,}" if isinstance(v, int) else str(v))
    out.print(table)
    if facts.get("template") == "plain":
        console.print("no chat template: prompts use reasonsift's plain template (docs/models.md)")
