"""`reasonsift eval --model M (--task NAME[:SPLIT] ... | --data FILE) -o RUN`: generate, verify, score."""

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
    default,
    flag,
    load_config,
    out,
    progress,
    user_errors,
)
from reasonsift.evaluate.compare import CompareConfig
from reasonsift.evaluate.stage import EvalStageConfig

D = EvalStageConfig.default  # every default lives in EvalStageConfig; none is restated here


def eval_(
    ctx: typer.Context,
    model: str = typer.Option(
        None, "--model", "-m", metavar="MODEL", help="Model directory or Hugging Face id."
    ),
    task: list[str] = typer.Option(
        None, "--task", "-t", metavar="NAME[:SPLIT]", help="Built-in task and split (default test); repeat."
    ),
    data: str = typer.Option(None, "--data", metavar="DATA", help="Or a data file / dataset dir / run dir."),
    out_dir: Path = typer.Option(None, "--out", "-o", metavar="RUN_DIR", help="Run directory to write."),
    split: str = typer.Option(D("split"), help="Split of a Hugging Face dataset directory given as --data."),
    limit: int = typer.Option(
        D("limit"), help="The first N questions (per task:split; tasks default to 100)."
    ),
    n: int = typer.Option(D("n"), "--n", help="Samples per question."),
    k: str = typer.Option(
        default(EvalStageConfig, "k"), "--k", help="pass@K / maj@K for each K, e.g. 1,4,8."
    ),
    temperature: float = typer.Option(D("temperature"), help="Sampling temperature (0: greedy)."),
    top_p: float = typer.Option(D("top_p"), help="Nucleus sampling mass."),
    max_new_tokens: int = typer.Option(
        D("max_new_tokens"), help="Generation budget (default: 2x reference)."
    ),
    seed: int = typer.Option(D("seed"), help="Sampling seed."),
    data_seed: int = typer.Option(D("data_seed"), help="Seed of the built-in task items."),
    difficulty: int = typer.Option(D("difficulty"), help="Built-in task difficulty (default: each task's)."),
    min_thinking_tokens: int = typer.Option(
        D("min_thinking_tokens"), help="Budget forcing (s1): suppress </think> before this many, append Wait."
    ),
    max_thinking_tokens: int = typer.Option(
        D("max_thinking_tokens"), help="Budget forcing (s1): force </think> after this many thinking tokens."
    ),
    backend: str = typer.Option(D("backend"), help="hf, or vllm (GPU; pip install reasonsift[vllm])."),
    tensor_parallel_size: int = typer.Option(
        D("tensor_parallel_size"), help="vllm backend: GPUs per model (per Ray actor with --engine ray)."
    ),
    verifier: str = typer.Option(D("verifier"), help="auto, task, mc, math (Math-Verify) or exact."),
    verifier_timeout: float = typer.Option(D("verifier_timeout"), help="Seconds per verification."),
    quality: bool = flag(D("quality"), "--quality/--no-quality", "Trace validity, length and strategy."),
    infogain: bool = flag(
        D("infogain"), "--infogain/--no-infogain", "Information gain of generated traces (profile engine)."
    ),
    scorer_model: str = typer.Option(
        D("scorer_model"), metavar="MODEL", help="Fixed scorer for information gain (default: the model)."
    ),
    hybrid_base: str = typer.Option(
        D("hybrid_base"),
        metavar="MODEL",
        help="C2 hybrid decoding: this base model steered by MODEL (hybrid.json).",
    ),
    hybrid_rho: float = typer.Option(
        D("hybrid_rho"), help="Forking share of the steer-at-forking-tokens arm."
    ),
    batch_size: int = typer.Option(D("batch_size"), help="Prompts per generation batch."),
    shard_size: int = typer.Option(D("shard_size"), help="Questions per shard (the unit of --resume)."),
    workers: int = typer.Option(D("workers"), help="Verifier worker processes."),
    device: str = typer.Option(D("device"), help="auto, cpu, cuda, cuda:1, mps."),
    dtype: str = typer.Option(D("dtype"), help="auto (bfloat16 on GPU, float32 on CPU), float32, bfloat16."),
    trust_remote_code: bool = flag(
        D("trust_remote_code"), "--trust-remote-code", "Run the repository's code."
    ),
    allow_pickle: bool = flag(D("allow_pickle"), "--allow-pickle", "Accept pickle (.bin) weights (unsafe)."),
    engine: str = ENGINE,
    ray_address: str = RAY_ADDRESS,
    ray_workers: int = RAY_WORKERS,
    gpus_per_worker: float = GPUS_PER_WORKER,
    cpus_per_worker: float = CPUS_PER_WORKER,
    resume: bool = flag(D("resume"), "--resume", "Continue a killed run in RUN_DIR (same options)."),
    overwrite: bool = flag(D("overwrite"), "--overwrite", "Replace an existing run in RUN_DIR."),
    export_lm_eval: Path = typer.Option(
        None,
        "--export-lm-eval",
        metavar="DIR",
        help="Write lm-eval task YAML for --task items to DIR, then exit.",
    ),
    config: Path = config_option(),
) -> None:
    """Evaluate a model: generation, verification (correct / wrong / no answer / timeout / error), accuracy or
    pass@k and maj@k with CIs, solve rate per question, and the quality of the generated traces."""
    if export_lm_eval is not None:
        from reasonsift.evaluate.lmeval import export_lm_eval as export

        with user_errors(ctx):
            paths = export(
                export_lm_eval, task or [], n=limit or 100, data_seed=data_seed, difficulty=difficulty,
                max_new_tokens=max_new_tokens,
            )  # fmt: skip
        for p in paths:
            out.print(str(p), highlight=False, soft_wrap=True)
        console.print(
            f"wrote {len(paths)} lm-eval task files to {export_lm_eval} (run: lm_eval --include_path DIR)"
        )
        return
    from reasonsift.evaluate.stage import main

    cfg = load_config(ctx, EvalStageConfig, config, rename={"task": "tasks"}, required=("model", "out_dir"))
    from rich.progress import TextColumn

    with user_errors(ctx):
        rates = TextColumn("{task.fields[cps]:.1f} completions/s, {task.fields[tps]:.0f} tok/s")
        with progress(extra=(rates,)) as bar:
            tid = bar.add_task("generating", total=None, cps=0.0, tps=0.0)
            state = {"done": 0, "tokens": 0}

            def on_progress(n_done: int, n_tokens: int) -> None:
                state["done"] += n_done
                state["tokens"] += n_tokens
                elapsed = bar.tasks[tid].elapsed or 1e-9
                bar.update(tid, advance=n_done, cps=state["done"] / elapsed, tps=state["tokens"] / elapsed)

            res = main(cfg, on_progress=on_progress, on_start=lambda n: bar.update(tid, total=n))
    out.print(results_table(res.results, f"eval: {cfg.out_dir}"))
    if cfg.hybrid_base:
        import json

        h = json.loads((Path(cfg.out_dir) / "hybrid.json").read_text())
        arms, g = h["arms"], h["gap_recovered"]["hybrid_forking"]
        for name, a in arms.items():
            out.print(
                f"hybrid {name}: accuracy {a['accuracy']:.3f}, fraction steered {a['fraction_steered']:.3f}"
            )
        if g["gap_recovered"] is not None:
            out.print(
                f"gap recovered (forking-only): {g['gap_recovered']:.3f} [{g['ci_low']:.3f}, {g['ci_high']:.3f}]"
            )
    console.print(f"wrote {cfg.out_dir}")


def results_table(results: dict, title: str):
    """The metrics of ``results.json`` by group as a rich table."""
    from rich.table import Table

    groups = results["metrics"]
    # maj@1 is sample 0's accuracy (pass@1 averages all samples): shown in results.json, not here
    keys = [
        k
        for k in next(iter(groups.values()), {})
        if k.startswith(("accuracy", "pass@", "maj@")) and k != "maj@1"
    ]
    failures = [
        s for s in ("no_answer", "timeout", "error") if any(m["states"].get(s) for m in groups.values())
    ]
    table = Table(title=f"{title} (95% bootstrap CIs over questions)")
    for col in ("group", "n", *keys, *failures):
        table.add_column(col.replace("_", " "), justify="left" if col == "group" else "right", no_wrap=True)
    for name, m in groups.items():
        cells = [name, str(m.get("n_questions", ""))]
        for key in keys:
            v = m[key]
            cells.append(
                f"{v['value']:.3f}\n[{v['ci_low']:.2f}, {v['ci_high']:.2f}]"
                if isinstance(v, dict)
                else str(v)
            )
        counts = m.get("states", {})
        cells += [str(counts.get(s, 0)) for s in failures]
        table.add_row(*cells)
    return table


def compare(
    ctx: typer.Context,
    run_a: Path = typer.Argument(None, metavar="RUN_A", show_default=False, help="An eval run directory."),
    run_b: Path = typer.Argument(None, metavar="RUN_B", show_default=False, help="Another, same questions."),
    n_boot: int = typer.Option(CompareConfig.default("n_boot"), help="Bootstrap replicates."),
    seed: int = typer.Option(CompareConfig.default("seed"), help="Bootstrap seed."),
    config: Path = config_option(),
) -> None:
    """Paired comparison of two eval runs on the same questions: A - B with a paired bootstrap CI."""
    from rich.table import Table

    from reasonsift.evaluate.compare import main

    cfg = load_config(ctx, CompareConfig, config, required=("run_a", "run_b"))
    with user_errors(ctx):
        res = main(cfg)
    table = Table(title=f"{cfg.run_a} - {cfg.run_b} (mean solve rate; 95% paired bootstrap CI)")
    for col in ("group", "n", "A", "B", "A - B", "CI"):
        table.add_column(col, justify="left" if col == "group" else "right", no_wrap=True)
    for name, r in res.items():
        ci = f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
        table.add_row(name, str(r["n_questions"]), f"{r['a']:.3f}", f"{r['b']:.3f}", f"{r['diff']:+.3f}", ci)
    out.print(table)
