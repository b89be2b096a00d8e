"""`reasonsift profile DATA --model M -o RUN_DIR`: per-token entropy, forking masks, IFD and information gain."""

from __future__ import annotations

from pathlib import Path

import typer

from reasonsift.cli.common import console, out, progress, user_errors


def profile(
    data: Path = typer.Argument(..., help="Data file (JSONL, JSON or Parquet) of reasoning examples."),
    model: str = typer.Option(
        ..., "--model", "-m", help="Student model: Hugging Face id or local directory."
    ),
    out_dir: Path = typer.Option(
        ..., "--out", "-o", help="Run directory to write (see docs/profile-schema.md)."
    ),
    revision: str = typer.Option(None, help="Model revision (branch, tag or commit) for hub ids."),
    dtype: str = typer.Option(
        "auto", help="auto (bfloat16 on GPU, float32 on CPU), float32, bfloat16, float16."
    ),
    device: str = typer.Option("auto", help="auto, cpu, cuda, cuda:1, mps."),
    trust_remote_code: bool = typer.Option(False, help="Run the model repository's own code (off: unsafe)."),
    allow_pickle: bool = typer.Option(False, help="Accept pickle (.bin) weights (unsafe: code execution)."),
    template: Path = typer.Option(None, help="Jinja chat template file overriding the tokenizer's."),
    no_template: bool = typer.Option(False, help="Render raw text: question, newline, completion."),
    segmenter: str = typer.Option("auto", help="Trace step segmenter: auto, newline, semicolon, markers."),
    temperature: float = typer.Option(1.0, help="Entropy of softmax(logits / T)."),
    top_k: int = typer.Option(5, help="Alternatives stored per token for the viewer (0 = none)."),
    rho: float = typer.Option(0.2, help="Forking share: keep tokens with H >= the (1 - rho) quantile."),
    pool: str = typer.Option("dataset", help="Pool of the `forking` mask: dataset, batch or sequence."),
    pool_batch_size: int = typer.Option(8, help="Examples per `batch` pool (seeded shuffle, as a trainer)."),
    seed: int = typer.Option(0, help="Seed of the `batch` pool's shuffle."),
    quantile: str = typer.Option("linear", help="Quantile interpolation for tau: linear or higher."),
    threshold: float = typer.Option(None, help="Also write a fixed-threshold mask (H >= THRESHOLD nats)."),
    ifd: bool = typer.Option(True, help="Compute IFD and r-IFD (4 extra passes per example)."),
    ifd_target: str = typer.Option(
        "completion", help="IFD's A: completion (<think>trace</think>answer) or answer."
    ),
    infogain: bool = typer.Option(True, help="Compute information gain per step (n + 1 passes)."),
    ig_whole_sequence: bool = typer.Option(
        False, help="InfoGain over the whole sequence (2506.02126's code)."
    ),
    ig_max_steps: int = typer.Option(
        None, help="Group longer traces into this many steps (default: every step)."
    ),
    posthoc_ppl0: float = typer.Option(1.5, help="Post-hoc flag: answer PPL before any step below this..."),
    posthoc_gain: float = typer.Option(0.05, help="...and total NLL gain of the steps below this (nats)."),
    scorer_model: str = typer.Option(
        None, help="Fixed scorer model for IFD and InfoGain (default: student)."
    ),
    compare_model: str = typer.Option(None, help="Second model: overlap of forking positions in stats.json."),
    batch_size: int = typer.Option(16, help="Sequences per forward pass."),
    max_tokens_per_batch: int = typer.Option(16384, help="Padded tokens per forward pass."),
    chunk_rows: int = typer.Option(None, help="LM-head rows per chunk (default ~256 MiB of fp32 logits)."),
    shard_size: int = typer.Option(512, help="Examples per output shard (the unit of --resume)."),
    max_length: int = typer.Option(None, help="Context limit in tokens (default: the model's)."),
    overflow: str = typer.Option(
        "reject", help="Over the context: reject (to rejects.jsonl) or truncate-left."
    ),
    limit: int = typer.Option(None, help="Profile only the first N examples."),
    compile: bool = typer.Option(False, "--compile", help="torch.compile the backbone and the chunk stats."),
    exact_logits: bool = typer.Option(
        False, "--exact-logits", help="Score with the model's full forward: slower, always right."
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue a killed run in OUT (same options)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing run in OUT."),
) -> None:
    """Profile a dataset with a student model: entropy per token, forking masks, IFD, information gain."""
    from rich.progress import TextColumn

    from reasonsift.profile import ProfileConfig, run_profile

    with user_errors():
        cfg = ProfileConfig(
            data=str(data), model=model, out_dir=str(out_dir), revision=revision, dtype=dtype, device=device,
            trust_remote_code=trust_remote_code, allow_pickle=allow_pickle, template=str(template) if template else None,
            no_template=no_template, segmenter=segmenter, temperature=temperature, top_k=top_k, rho=rho,
            pool=pool, pool_batch_size=pool_batch_size, seed=seed, quantile=quantile, threshold=threshold,
            ifd=ifd, ifd_target=ifd_target, infogain=infogain,
            ig_whole_sequence=ig_whole_sequence, ig_max_steps=ig_max_steps, posthoc_ppl0=posthoc_ppl0,
            posthoc_gain=posthoc_gain, scorer_model=scorer_model, compare_model=compare_model,
            batch_size=batch_size, max_tokens_per_batch=max_tokens_per_batch, chunk_rows=chunk_rows,
            shard_size=shard_size, max_length=max_length, overflow=overflow, limit=limit, compile=compile,
            exact_logits=exact_logits, resume=resume, overwrite=overwrite,
        )  # fmt: skip
        from reasonsift.data.io import read_examples

        examples = list(read_examples(cfg.data).examples)
        if cfg.limit:
            examples = examples[: cfg.limit]
        tps = TextColumn("{task.fields[tps]:.0f} tok/s")
        with progress(extra=(tps,)) as bar:
            task = bar.add_task("profile", total=len(examples), tps=0.0)
            state = {"tokens": 0}

            def on_progress(n_seq: int, n_tok: int) -> None:
                state["tokens"] += n_tok
                elapsed = bar.tasks[task].elapsed or 1e-9
                bar.update(task, advance=n_seq, tps=state["tokens"] / elapsed)

            res = run_profile(cfg, examples=examples, on_progress=on_progress)
    out.print(summary_table(res.stats, f"profile: {out_dir}"))
    console.print(f"wrote {out_dir}")


def summary_table(s: dict, title: str):
    """The end-of-run summary of a profile's ``stats.json`` as a rich table (also used by the demo)."""
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    ent = s.get("entropy", {})
    rows = [
        ("examples profiled", f"{s['n_profiled']} / {s['n_examples']}"),
        ("rejected (over context)", str(s["n_rejected"])),
        ("truncated (left)", str(s["n_truncated"])),
        ("scored tokens", str(s["scored_tokens"])),
        ("padding waste", f"{s['padding_waste']:.1%}"),
        ("tokens/s", f"{s.get('tokens_per_s', 0):.0f}"),
        (
            "H mean / p80 (nats)",
            f"{ent.get('H_mean', float('nan')):.3f} / {ent.get('H_p80', float('nan')):.3f}",
        ),
        (
            "share H < 0.01 (trace)",
            f"{s.get('entropy_trace', {}).get('frac_H_below_0_01', float('nan')):.1%}",
        ),
        ("forking tau, dataset pool", _num(s["tau"]["dataset"], ".4f")),
        (
            "forking tau, batch / sequence pools (median)",
            f"{_num(s['tau']['batch'].get('median'), '.4f')} / {_num(s['tau']['sequence'].get('median'), '.4f')}",
        ),
        (
            f"forking share in trace / answer ({s['forking_pool']} pool, rho={s['rho']})",
            f"{s['forking_share']['trace']:.1%} / {s['forking_share']['answer']:.1%}",
        ),
    ]
    if s["ifd"].get("n"):
        rows.append(("IFD mean (IFD > 1)", f"{s['ifd']['mean']:.3f} ({s['ifd_above_1']})"))
    if s["r_ifd"].get("n"):
        rows.append(("r-IFD mean", f"{s['r_ifd']['mean']:.3f}"))
    if s["info_gain"].get("n"):
        # InfoGain is in perplexity units (2506.02126) and heavy-tailed: show its median, and the mean NLL gain.
        ig_total = s.get("ig_total", {}).get("mean", float("nan"))
        rows.append(("InfoGain median (PPL units)", f"{s['info_gain']['median']:.4g}"))
        rows.append(("answer NLL gain of the steps, mean (nats)", f"{ig_total:.3f}"))
        rows.append(("post-hoc rationalisations", str(s["posthoc"])))
    if "compare" in s:
        rows.append(("forking overlap with compare model", f"{s['compare']['overlap_dataset_pool']:.1%}"))
    nulls = {m: sum(v.values()) for m, v in s.get("null_metrics", {}).items()}
    if any(nulls.values()):
        rows.append(
            (
                "null (question cut / over context): IFD, r-IFD, InfoGain",
                " / ".join(str(nulls[m]) for m in ("ifd", "r_ifd", "info_gain")),
            )
        )
    for r in rows:
        table.add_row(*r)
    return table


def _num(x, fmt: str) -> str:
    return "n/a" if x is None else format(x, fmt)
