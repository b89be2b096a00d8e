"""`reasonsift profile DATA --model MODEL -o RUN_DIR`: per-token entropy, forking masks, IFD, information gain."""

from __future__ import annotations

from pathlib import Path

import typer

from reasonsift.cli.common import (
    CPUS_PER_WORKER,
    ENGINE,
    GPUS_PER_WORKER,
    RAY_ADDRESS,
    RAY_WORKERS,
    config_option,
    console,
    flag,
    load_config,
    out,
    progress,
    user_errors,
)
from reasonsift.profile.config import ProfileConfig

D = ProfileConfig.default  # every default lives in ProfileConfig; none is restated here


def profile(
    ctx: typer.Context,
    data: Path = typer.Argument(
        None,
        metavar="DATA",
        show_default=False,
        help="Data file (JSONL, JSON, Parquet), dataset dir or hub id.",
    ),
    model: str = typer.Option(
        None, "--model", "-m", metavar="MODEL", help="Student model: Hugging Face id or local directory."
    ),
    out_dir: Path = typer.Option(
        None, "--out", "-o", metavar="RUN_DIR", help="Run directory to write (see docs/profile-schema.md)."
    ),
    split: str = typer.Option(D("split"), help="Split of a Hugging Face dataset directory or hub id."),
    revision: str = typer.Option(D("revision"), help="Model revision (branch, tag or commit) for hub ids."),
    dtype: str = typer.Option(
        D("dtype"), help="auto (bfloat16 on GPU, float32 on CPU), float32, bfloat16, float16."
    ),
    device: str = typer.Option(D("device"), help="auto, cpu, cuda, cuda:1, mps."),
    trust_remote_code: bool = flag(
        D("trust_remote_code"), "--trust-remote-code", "Run the model repository's own code (unsafe)."
    ),
    allow_pickle: bool = flag(
        D("allow_pickle"), "--allow-pickle", "Accept pickle (.bin) weights (unsafe: code execution)."
    ),
    template: Path = typer.Option(
        D("template"), metavar="FILE", help="Jinja chat template file overriding the tokenizer's."
    ),
    no_template: bool = flag(
        D("no_template"), "--no-template", "Render raw text: question, newline, completion."
    ),
    segmenter: str = typer.Option(
        D("segmenter"), help="Trace step segmenter: auto, newline, semicolon, markers."
    ),
    temperature: float = typer.Option(D("temperature"), help="Entropy of softmax(logits / T)."),
    top_k: int = typer.Option(D("top_k"), help="Alternatives stored per token for the viewer (0 = none)."),
    rho: float = typer.Option(D("rho"), help="Forking share: keep tokens with H >= the (1 - rho) quantile."),
    pool: str = typer.Option(D("pool"), help="Pool of the `forking` mask: dataset, batch or sequence."),
    pool_batch_size: int = typer.Option(
        D("pool_batch_size"), help="Examples per `batch` pool (a seeded shuffle, as a trainer's loader)."
    ),
    seed: int = typer.Option(D("seed"), help="Seed of the `batch` pool's shuffle."),
    quantile: str = typer.Option(D("quantile"), help="Quantile interpolation for tau: linear or higher."),
    threshold: float = typer.Option(
        D("threshold"), help="Also write a fixed-threshold mask (H >= THRESHOLD nats)."
    ),
    ifd: bool = flag(D("ifd"), "--ifd/--no-ifd", "Compute IFD and r-IFD (4 extra passes per example)."),
    ifd_target: str = typer.Option(
        D("ifd_target"),
        help="IFD's A: completion (<think>trace</think>answer) or answer (final answer only).",
    ),
    infogain: bool = flag(
        D("infogain"), "--infogain/--no-infogain", "Compute information gain per step (n + 1 passes)."
    ),
    ig_whole_sequence: bool = flag(
        D("ig_whole_sequence"), "--ig-whole-sequence", "InfoGain over the whole sequence (2506.02126's code)."
    ),
    ig_max_steps: int = typer.Option(
        D("ig_max_steps"), help="Group longer traces into this many steps for InfoGain (default: every step)."
    ),
    posthoc_ppl0: float = typer.Option(
        D("posthoc_ppl0"), help="Post-hoc flag: answer PPL before any step below this..."
    ),
    posthoc_gain: float = typer.Option(
        D("posthoc_gain"), help="...and total NLL gain of the steps below this (nats)."
    ),
    scorer_model: str = typer.Option(
        D("scorer_model"), metavar="MODEL", help="Fixed scorer model for IFD and InfoGain (default: student)."
    ),
    compare_model: str = typer.Option(
        D("compare_model"), metavar="MODEL", help="Second model: overlap of forking positions in stats.json."
    ),
    batch_size: int = typer.Option(
        D("batch_size"), help="Rows per forward pass (a sequence a row; several with --packing)."
    ),
    max_tokens_per_batch: int = typer.Option(
        D("max_tokens_per_batch"), help="Padded tokens per forward pass (rows x longest row)."
    ),
    packing: bool = flag(
        D("packing"),
        "--packing",
        "Pack several sequences into each row (restarted position ids, variable-length attention): no "
        "padding between heavy-tailed lengths. Refused for a model whose layers ignore position ids.",
    ),
    pack_length: int = typer.Option(
        D("pack_length"),
        help="Tokens per packed row (default 4096, within --max-tokens-per-batch).",
    ),
    attn_implementation: str = typer.Option(
        D("attn_implementation"),
        metavar="IMPL",
        help="transformers attention kernel: sdpa (default), eager, flash_attention_2, flex_attention.",
    ),
    chunk_rows: int = typer.Option(
        D("chunk_rows"), help="LM-head rows per chunk (default ~256 MiB of fp32 logits)."
    ),
    shard_size: int = typer.Option(D("shard_size"), help="Examples per output shard (the unit of --resume)."),
    max_length: int = typer.Option(D("max_length"), help="Context limit in tokens (default: the model's)."),
    overflow: str = typer.Option(
        D("overflow"), help="Over the context: reject (to rejects.jsonl) or truncate-left."
    ),
    limit: int = typer.Option(D("limit"), help="Profile only the first N examples."),
    compile: bool = flag(D("compile"), "--compile", "torch.compile the backbone and the chunk stats."),
    exact_logits: bool = flag(
        D("exact_logits"), "--exact-logits", "Score with the model's full forward: slower, always right."
    ),
    engine: str = ENGINE,
    ray_address: str = RAY_ADDRESS,
    ray_workers: int = RAY_WORKERS,
    gpus_per_worker: float = GPUS_PER_WORKER,
    cpus_per_worker: float = CPUS_PER_WORKER,
    resume: bool = flag(D("resume"), "--resume", "Continue a killed run in RUN_DIR (same options and data)."),
    overwrite: bool = flag(D("overwrite"), "--overwrite", "Replace an existing run in RUN_DIR."),
    config: Path = config_option(),
) -> None:
    """Profile a dataset with a student model: entropy per token, forking masks, IFD, information gain."""
    from rich.progress import TextColumn

    from reasonsift.profile import run_profile
    from reasonsift.profile.table import summary_table

    cfg = load_config(ctx, ProfileConfig, config, required=("data", "model", "out_dir"))
    with user_errors(ctx):
        from reasonsift.data.chunks import chunkable, plan_chunks
        from reasonsift.data.io import read_examples
        from reasonsift.profile.writer import RunDir
        from reasonsift.run import run_record

        # Refuse an existing run (or a resume with other options) before reading a large dataset.
        RunDir(cfg.out_dir).check(run_record("profile", cfg), resume=cfg.resume, overwrite=cfg.overwrite)

        examples, plan = None, None
        if cfg.engine == "ray" and chunkable(cfg.data):  # validated chunk by chunk; actors read their own
            plan = plan_chunks(cfg.data, cfg.shard_size, limit=cfg.limit)
        else:
            examples = list(read_examples(cfg.data, split=cfg.split).examples)
            if cfg.limit:
                examples = examples[: cfg.limit]
        tps = TextColumn("{task.fields[tps]:.0f} tok/s")
        with progress(extra=(tps,)) as bar:
            task = bar.add_task("profile", total=plan.n if plan else len(examples), tps=0.0)
            state = {"tokens": 0}

            def on_progress(n_seq: int, n_tok: int) -> None:
                state["tokens"] += n_tok
                elapsed = bar.tasks[task].elapsed or 1e-9
                bar.update(task, advance=n_seq, tps=state["tokens"] / elapsed)

            res = run_profile(cfg, examples=examples, plan=plan, on_progress=on_progress)
    out.print(summary_table(res.stats, f"profile: {cfg.out_dir}"))
    console.print(f"wrote {cfg.out_dir}")
