"""`reasonsift train sft|grpo --model M ... -o RUN`: fine-tuning on TRL (docs/train.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from reasonsift.cli.common import config_option, console, flag, load_config, user_errors
from reasonsift.train.grpo import GRPORunConfig
from reasonsift.train.sft import SFTRunConfig

D = SFTRunConfig.default  # every default lives in the config dataclasses; none is restated here
G = GRPORunConfig.default

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
    pool: str = typer.Option(
        D("pool"), help="Forking pool: sequence, batch (this process) or global (every process's batch)."
    ),
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
    lr: float = typer.Option(D("lr"), help="Peak learning rate."),
    lr_scheduler: str = typer.Option(D("lr_scheduler"), help="linear or cosine decay to 0, or constant."),
    warmup_steps: int = typer.Option(D("warmup_steps"), help="Linear warm-up steps."),
    seed: int = typer.Option(D("seed"), help="Seed of initialisation, data order and the random mask."),
    save_every: int = typer.Option(
        D("save_every"), help="Checkpoint every N steps (what --resume continues)."
    ),
    report_to: str = typer.Option(D("report_to"), help="none, or TRL integrations: tensorboard, wandb, ..."),
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


@app.command("grpo")
def grpo(
    ctx: typer.Context,
    model: str = typer.Option(
        None, "--model", "-m", metavar="MODEL", help="Policy model: Hugging Face id or local directory."
    ),
    task: str = typer.Option(
        G("task"), metavar="TASK", help="Built-in task (or gym:NAME): prompts from its train split."
    ),
    data: Path = typer.Option(
        G("data"), "--data", "-d", metavar="DATA", help="Or a data file of examples with answers."
    ),
    out_dir: Path = typer.Option(None, "--out", "-o", metavar="RUN", help="Run directory to write."),
    n_prompts: int = typer.Option(G("n_prompts"), help="With --task: train items to generate."),
    difficulty: int = typer.Option(
        G("difficulty"), help="With --task: its difficulty (default: the task's)."
    ),
    data_seed: int = typer.Option(G("data_seed"), help="With --task: seed of the items."),
    verifier: str = typer.Option(G("verifier"), help="Reward verifier: auto, task, mc, math, exact."),
    format_reward: float = typer.Option(
        G("format_reward"), help="Added to the reward when the completion gives an extractable answer."
    ),
    mask: str = typer.Option(G("mask"), help="Tokens in the policy loss: all, forking, bottom or random."),
    rho: float = typer.Option(G("rho"), help="Forking share (TRL's top_entropy_quantile)."),
    pool: str = typer.Option(
        G("pool"), help="Entropy-quantile pool: micro-batch (TRL's), batch or sequence."
    ),
    normalize: str = typer.Option(
        G("normalize"), help="Loss divisor: all completion tokens (the paper) or the selected tokens."
    ),
    loss_type: str = typer.Option(G("loss_type"), help="TRL loss: dapo, grpo, bnpo or dr_grpo."),
    num_generations: int = typer.Option(G("num_generations"), help="Completions per prompt (the group)."),
    batch_size: int = typer.Option(
        G("batch_size"), help="Completions per micro-batch (a multiple of --num-generations)."
    ),
    grad_accum: int = typer.Option(G("grad_accum"), help="Micro-batches per optimizer step."),
    max_steps: int = typer.Option(G("max_steps"), help="Optimizer steps."),
    lr: float = typer.Option(G("lr"), help="Peak learning rate."),
    lr_scheduler: str = typer.Option(G("lr_scheduler"), help="constant, or linear or cosine decay to 0."),
    warmup_steps: int = typer.Option(G("warmup_steps"), help="Linear warm-up steps."),
    temperature: float = typer.Option(G("temperature"), help="Sampling temperature of the rollouts."),
    beta: float = typer.Option(G("beta"), help="KL coefficient to the starting model."),
    max_completion_length: int = typer.Option(
        G("max_completion_length"), help="Completion budget (default: twice the longest reference + 16)."
    ),
    lora: bool = flag(G("lora"), "--lora", "LoRA (r 32, alpha 128, all linear projections) + merged export."),
    overlap_every: int = typer.Option(
        G("overlap_every"), help="Forking-position overlap with the starting model every N steps (0: never)."
    ),
    seed: int = typer.Option(G("seed"), help="Seed of initialisation, sampling, data order, random mask."),
    save_every: int = typer.Option(
        G("save_every"), help="Checkpoint every N steps (what --resume continues)."
    ),
    report_to: str = typer.Option(G("report_to"), help="none, or TRL integrations: tensorboard, wandb, ..."),
    device: str = typer.Option(G("device"), help="auto, cpu, cuda."),
    resume: bool = flag(G("resume"), "--resume", "Continue the run in RUN from its last checkpoint."),
    overwrite: bool = flag(G("overwrite"), "--overwrite", "Replace an existing run in RUN."),
    config: Path = config_option(),
) -> None:
    """GRPO with verifiable rewards (TRL's GRPOTrainer): the evaluate verifiers score each completion;
    writes curves.jsonl, cost.json, model/ (and model-merged/ with --lora) and manifest.json in RUN."""
    from reasonsift.train.grpo import main

    cfg = load_config(ctx, GRPORunConfig, config, required=("model", "out_dir"))
    with user_errors(ctx):
        cfg.validate()
    with user_errors(ctx), console.status("training"):
        cost = main(cfg)
    console.print(
        f"{cost['steps']} steps, {cost['completions']:,} completions, mean reward of the last steps "
        f"{_fmt(cost['final_reward'])}, {cost['tokens_in_loss']:,} tokens in the loss of "
        f"{cost['completion_tokens']:,}; wrote {cfg.out_dir}"
    )


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"
