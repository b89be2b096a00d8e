"""`reasonsift train sft --model M --data D -o RUN`: fine-tuning on TRL (docs/train.md). GRPO comes later."""

from __future__ import annotations

from pathlib import Path

import typer

from reasonsift.cli.common import config_option, console, flag, load_config, user_errors
from reasonsift.train.sft import SFTRunConfig

D = SFTRunConfig.default  # every default lives in SFTRunConfig; none is restated here

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.command("sft")
def sft(
    ctx: typer.Context,
    model: str = typer.Option(
        None, "--model", "-m", metavar="MODEL", help="Student model: Hugging Face id or local directory."
    ),
    data: Path = typer.Option(
        None, "--data", "-d", metavar="DATA", help="Training data file (JSONL, Parquet)."
    ),
    out_dir: Path = typer.Option(None, "--out", "-o", metavar="RUN", help="Run directory to write."),
    mask: str = typer.Option(D("mask"), help="Tokens in the loss: completion, forking, bottom or random."),
    rho: float = typer.Option(D("rho"), help="Forking share: the top RHO of completion tokens by entropy."),
    pool: str = typer.Option(D("pool"), help="Forking pool: sequence or batch."),
    profile: Path = typer.Option(
        D("profile"),
        metavar="PROFILE_RUN",
        help="Profile run of the student: its entropies (default: recomputed under the current model).",
    ),
    normalize: str = typer.Option(
        D("normalize"), help="Loss divisor: all completion tokens (the paper) or the selected tokens."
    ),
    lora: bool = flag(D("lora"), "--lora", "LoRA (r 32, alpha 128, all linear projections) + merged export."),
    max_steps: int = typer.Option(D("max_steps"), help="Optimizer steps."),
    batch_size: int = typer.Option(D("batch_size"), help="Sequences per step."),
    lr: float = typer.Option(D("lr"), help="Peak learning rate (linear decay to 0)."),
    seed: int = typer.Option(D("seed"), help="Seed of initialisation, data order and the random mask."),
    save_every: int = typer.Option(
        D("save_every"), help="Checkpoint every N steps (what --resume continues)."
    ),
    device: str = typer.Option(D("device"), help="auto, cpu, cuda."),
    resume: bool = flag(D("resume"), "--resume", "Continue the run in RUN from its last checkpoint."),
    overwrite: bool = flag(D("overwrite"), "--overwrite", "Replace an existing run in RUN."),
    config: Path = config_option(),
) -> None:
    """Supervised fine-tuning with TRL's SFTTrainer, on the profiler's rendering; writes curves.jsonl,
    cost.json, model/ (and model-merged/ with --lora) and manifest.json in RUN."""
    from reasonsift.train.sft import main

    cfg = load_config(ctx, SFTRunConfig, config, required=("model", "data", "out_dir"))
    with user_errors(ctx), console.status("training"):
        cost = main(cfg)
    console.print(
        f"{cost['steps']} steps, final loss {cost['final_loss']:.4f}, {cost['tokens_in_loss']:,} tokens in "
        f"the loss of {cost['completion_tokens']:,}; wrote {cfg.out_dir}"
    )
