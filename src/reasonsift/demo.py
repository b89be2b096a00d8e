"""The demo: the pipeline so far on built-in tasks and the built-in tiny model, offline.

1. generate every built-in task (free-form and multiple-choice; train/test/ood) into ``OUT/data``;
2. take the built-in model (the shipped checkpoint, else pretrain it from its recorded recipe);
3. evaluate it (greedy exact match, in-distribution and out-of-distribution); with the built-in model, compare
   it with the same recipe trained on answers only, at equal steps (evaluated here) and at equal tokens
   (from the two runs' training logs);
4. profile held-out ``arith`` items with it (entropy, forking tokens, IFD, information gain) into ``OUT/profile``;
5. write the token viewer ``OUT/report.html``;
6. say where the entropy sits: which tokens of the arithmetic traces are the forking tokens;
7. the thesis: profile a pool of arith traces (difficulties 1-2) with the model, select 10% with a recipe and
   10% at random, fine-tune the model on each and on the whole pool (same steps), and evaluate the three on
   held-out questions: accuracy, trace validity and cost, side by side.

Every number it prints is in ``OUT/demo.json`` (the profile's whole ``stats.json`` under ``profile``).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from reasonsift.run.config import StageConfig

FORMATS = ("free_form", "multiple_choice")


@dataclass
class DemoConfig(StageConfig):
    out_dir: str = "runs/demo"
    n: int = 200  # examples per task, format and split in OUT/data
    eval_n: int = 200  # greedy-eval items per split
    profile_n: int = 200  # arith test items profiled
    sample_n: int = 50  # arith test questions sampled k times each (pass@k, maj@k, trace validity)
    sample_k: int = 8  # samples per question (temperature 1)
    seed: int = 0
    model: str | None = None  # None = the built-in tiny-arith model
    pool_n: int = 1200  # arith training pool of the thesis step (difficulties 1-2, equal shares)
    budget: float = 0.1  # share of the pool each selection keeps
    recipe: str = "ifd"  # the selection recipe compared with a random subset of the same size
    sft_steps: int = 120  # SFT steps of every arm (equal budgets)
    sft_batch_size: int = 32
    test_n: int = 200  # held-out questions of step 7 (arith difficulty 2)
    progress: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.budget <= 1:
            raise ValueError(f"budget: expected a share in (0, 1], got {self.budget}")
        for name in ("n", "eval_n", "profile_n", "sample_n", "sample_k", "pool_n", "sft_steps", "test_n"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: expected >= 1, got {getattr(self, name)}")


def generate_data(cfg: DemoConfig) -> list[dict[str, Any]]:
    """Every built-in task x format x split into OUT/data/<task>-<format>-<split>.jsonl; returns summary rows."""
    from reasonsift.data.io import write_examples
    from reasonsift.tasks import SPLITS, get_task, task_names

    rows = []
    for name in task_names():
        task = get_task(name)
        for fmt in FORMATS:
            for split in SPLITS:
                exs = task.generate(cfg.n, seed=cfg.seed, split=split, format=fmt)
                path = Path(cfg.out_dir) / "data" / f"{name}-{fmt}-{split}.jsonl"
                write_examples(exs, path)
                ok = sum(task.check_trace(e, e.trace).valid and task.verify(e.answer, e).correct for e in exs)
                rows.append(
                    {
                        "task": name,
                        "format": fmt,
                        "split": split,
                        "n": len(exs),
                        "mean_trace_chars": sum(len(e.trace) for e in exs) / len(exs),
                        "verified": ok,
                        "path": str(path),
                    }
                )
    return rows


def logged_accuracy(model_dir: str | Path, task: str = "arith") -> list[dict[str, Any]]:
    """``{step, tokens, accuracy}`` of each evaluation a pretraining run logged (``train_log.jsonl``)."""
    rows = []
    for line in (Path(model_dir) / "train_log.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if task in rec.get("accuracy", {}):
            rows.append({"step": rec["step"], "tokens": rec["tokens"], "accuracy": rec["accuracy"][task]})
    return rows


def equal_tokens(
    traces_dir: str | Path, answers_dir: str | Path, task: str = "arith"
) -> dict[str, Any] | None:
    """Traces vs answers only at equal training tokens, from the two runs' own records.

    The answers-only run sees fewer tokens in the same steps (its documents are shorter). Its last logged
    evaluation is compared with the traces run's logged evaluation nearest in tokens seen; both runs log
    greedy accuracy on the same first ``eval_n`` test items (``reasonsift_pretrain.json`` holds the config).
    ``None`` when either run logged no evaluation or they evaluated on different items.
    """
    recs = [json.loads((Path(d) / "reasonsift_pretrain.json").read_text()) for d in (traces_dir, answers_dir)]
    if len({(r["config"]["seed"], r["config"]["eval_n"]) for r in recs}) != 1:
        return None
    traces, answers = logged_accuracy(traces_dir, task), logged_accuracy(answers_dir, task)
    if not traces or not answers:
        return None
    end = answers[-1]
    near = min(traces, key=lambda r: abs(r["tokens"] - end["tokens"]))
    return {
        "tokens_seen": {"traces": recs[0]["result"]["tokens"], "answers": recs[1]["result"]["tokens"]},
        "eval_n": recs[0]["config"]["eval_n"],
        "traces": near,
        "answers": end,
    }


_RESULT = re.compile(r"=(-?\d+)")


def arith_token_roles(trace: str) -> list[str]:
    """Role of each character of an arith trace: ``result`` (digits/sign after ``=``), ``operand``, ``symbol``."""
    roles = ["operand" if c.isdigit() else "symbol" for c in trace]
    for m in _RESULT.finditer(trace):
        for i in range(m.start(1), m.end(1)):
            roles[i] = "result"
    return roles


def entropy_by_role(run_dir: str | Path) -> dict[str, dict[str, float]]:
    """Share of trace tokens, of trace entropy and of forking tokens per role (built-in char tokenizer only).

    Reads the profile's Parquet output; a trace token's role comes from its character position in the trace.
    """
    import numpy as np
    import pandas as pd

    from reasonsift.profile import schema as S

    cols = [S.ID, S.SEGMENT, S.TOKENS, S.ENTROPY, "trace"]
    ex = pd.read_parquet(Path(run_dir) / "examples", columns=cols)
    fork = pd.read_parquet(Path(run_dir) / "forking.parquet", columns=[S.ID, S.FORKING]).set_index(S.ID)
    tot: dict[str, list[float]] = {}
    for row in ex.itertuples():
        seg, toks, ent = np.asarray(row.segment), list(row.tokens), np.asarray(row.entropy)
        mask = np.asarray(fork.loc[row.id, S.FORKING], dtype=bool)
        idx = np.flatnonzero(seg == S.TRACE)  # trace tokens, in order
        text = "".join(toks[i] for i in idx)
        if text != row.trace:  # not character-level: roles cannot be assigned by position
            continue
        for i, role in zip(idx, arith_token_roles(text), strict=True):
            acc = tot.setdefault(role, [0, 0.0, 0])
            acc[0] += 1
            acc[1] += float(ent[i])
            acc[2] += int(mask[i])
    n = sum(v[0] for v in tot.values()) or 1
    h = sum(v[1] for v in tot.values()) or 1.0
    f = sum(v[2] for v in tot.values()) or 1
    return {r: {"tokens": v[0] / n, "entropy": v[1] / h, "forking": v[2] / f} for r, v in sorted(tot.items())}


def sampling_step(cfg: DemoConfig, root: Path, models: dict[str, tuple[str, Any]], out) -> dict[str, Any]:
    """``reasonsift eval`` with sampling on held-out arith for each model: pass@1, pass@k, maj@k (95% CIs) and
    the share of valid generated traces. The built-in pair shows C2's probe: how much of the trained model's
    pass@1 the answer-only model reaches within k samples."""
    from rich.table import Table

    from reasonsift.evaluate.stage import EvalStageConfig
    from reasonsift.evaluate.stage import main as eval_main

    table = Table(show_edge=False)
    k = cfg.sample_k
    for col in ("model", "pass@1", f"pass@{k}", f"maj@{k}", "valid traces"):
        table.add_column(col)
    res = {}
    for i, (label, (path, pair)) in enumerate(models.items()):
        ecfg = EvalStageConfig(
            model=path, out_dir=str(root / f"eval-{i}"), tasks=["arith:test"], limit=cfg.sample_n, n=k,
            k=[1, k], temperature=1.0, seed=cfg.seed, data_seed=cfg.seed, infogain=False, overwrite=True,
            workers=1, progress=cfg.progress,
        )  # fmt: skip
        r = eval_main(ecfg, pair).results
        m = r["metrics"]["all"]
        valid = r["quality"].get("trace_valid_rate")
        cell = lambda v: f"{v['value']:.3f}\n[{v['ci_low']:.2f}, {v['ci_high']:.2f}]"  # noqa: E731
        table.add_row(label, cell(m["pass@1"]), cell(m[f"pass@{k}"]), cell(m[f"maj@{k}"]), _pct(valid))
        res[label] = {"run": ecfg.out_dir, "metrics": m, "trace_valid_rate": valid}
    out.print(table)
    return res


def thesis_step(cfg: DemoConfig, root: Path, model_path: str, out) -> dict[str, Any]:
    """The thesis step: full pool vs a recipe's 10% vs a random 10%, each fine-tuned at equal steps and evaluated
    (everything under ``OUT/thesis``: the pool, its profile, the selections, the SFT and eval runs)."""
    import pyarrow.parquet as pq
    from rich.table import Table

    from reasonsift.data.io import write_examples
    from reasonsift.evaluate.stage import EvalStageConfig
    from reasonsift.evaluate.stage import main as evaluate
    from reasonsift.profile import run_profile
    from reasonsift.profile.config import ProfileConfig
    from reasonsift.retest.common import sft_arm, task_data, task_examples
    from reasonsift.select.pipeline import SelectConfig
    from reasonsift.select.pipeline import main as select

    root = root / "thesis"
    pool = task_data(root, "arith", cfg.pool_n, (1, 2))  # difficulty 3 is beyond the student (retest pool.py)
    k = max(1, round(cfg.budget * cfg.pool_n))
    # IFD is all the recipe reads: the information-gain pass and the viewer's top-k alternatives are off here
    run_profile(ProfileConfig(data=str(pool), model=model_path, out_dir=str(root / "pool-profile"), infogain=False,
                              top_k=0, overwrite=True, progress=cfg.progress))  # fmt: skip
    arms = {"full pool": pool}
    for recipe in (cfg.recipe, "random"):
        sel = root / f"select-{recipe}"
        select(SelectConfig(data=str(pool), profile=str(root / "pool-profile"), recipe=recipe, budget=k,
                            seed=cfg.seed, out_dir=str(sel), overwrite=True))  # fmt: skip
        arms[f"{recipe} {cfg.budget:.0%}" if recipe != "random" else f"random {cfg.budget:.0%}"] = (
            sel / "selected.parquet"
        )
    test = root / "test.jsonl"
    write_examples(task_examples("arith", cfg.test_n, (2,), seed=cfg.seed), test)
    res: dict[str, Any] = {"pool": str(pool), "pool_n": cfg.pool_n, "budget": k, "recipe": cfg.recipe,
                           "steps": cfg.sft_steps, "test": str(test), "test_n": cfg.test_n, "arms": {}}  # fmt: skip
    for i, (name, data) in enumerate({"start (no SFT)": None, **arms}.items()):
        arm_dir = root / "sft" / f"arm-{i}"
        row: dict[str, Any] = {"data": str(data) if data else None}
        if data is None:
            model = model_path
        else:
            cost = sft_arm(model_path, Path(data), arm_dir, cfg.seed, steps=cfg.sft_steps,
                           batch_size=cfg.sft_batch_size, lr=3e-4, warmup=max(1, cfg.sft_steps // 10))  # fmt: skip
            model = str(arm_dir / "model")
            row |= {"examples": len(pq.read_table(data, columns=["id"])) if str(data).endswith(".parquet")
                    else cfg.pool_n, "tokens_seen": cost["tokens_seen"], "wall_s": cost["wall_s"]}  # fmt: skip
        ev = root / "sft" / f"eval-{i}"
        evaluate(EvalStageConfig(model=model, data=str(test), out_dir=str(ev), infogain=False, overwrite=True,
                                 progress=False, device="cpu", dtype="float32"))  # fmt: skip
        samples = pq.read_table(ev / "samples.parquet", columns=["score", "trace_valid"]).to_pylist()
        row["accuracy"] = sum(r["score"] for r in samples) / len(samples)
        valid = [r["trace_valid"] for r in samples if r["trace_valid"] is not None]
        row["trace_valid"] = sum(valid) / len(samples)
        res["arms"][name] = row
    table = Table(show_edge=False)
    for col in ("training data", "examples", "tokens seen", "wall s", "accuracy", "valid traces"):
        table.add_column(col)
    for name, r in res["arms"].items():
        table.add_row(name, str(r.get("examples", "-")), f"{r['tokens_seen']:,}" if "tokens_seen" in r else "-",
                      f"{r['wall_s']:.0f}" if "wall_s" in r else "-", f"{r['accuracy']:.3f}",
                      f"{r['trace_valid']:.3f}")  # fmt: skip
    out.print(table)
    a = res["arms"]
    sel_name, rnd_name = list(arms)[1], list(arms)[2]
    out.print(
        f"At {cfg.sft_steps} SFT steps each, {sel_name} of the pool ({k} examples) reaches "
        f"{a[sel_name]['accuracy']:.3f} on {cfg.test_n} held-out arith difficulty-2 questions, random "
        f"{cfg.budget:.0%} {a[rnd_name]['accuracy']:.3f}, the full pool ({cfg.pool_n}) "
        f"{a['full pool']['accuracy']:.3f}; the start {a['start (no SFT)']['accuracy']:.3f}. One seed: "
        "`reasonsift retest C7` / `s1` / `limo` give the same comparison with seeds and CIs."
    )
    sel, rnd, full = (a[n]["accuracy"] for n in (sel_name, rnd_name, "full pool"))
    holds = sel > rnd and sel >= full
    res["finding"] = (
        f"The thesis {'holds' if holds else 'does not hold'} here: {sel_name} "
        f"{'beats' if sel > rnd else 'does not beat'} random {cfg.budget:.0%} ({sel - rnd:+.3f}) and "
        f"{'matches or beats' if sel >= full else 'falls short of'} the full pool ({sel - full:+.3f})."
    )
    out.print(res["finding"])
    return res


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1%}"


def main(cfg: DemoConfig, out=None) -> dict[str, Any]:
    """Run the demo; returns (and writes to OUT/demo.json) every number it prints (to ``out``, a rich
    Console; default: stdout)."""
    from rich.console import Console
    from rich.table import Table

    from reasonsift.evaluate.accuracy import evaluate_accuracy
    from reasonsift.models import load
    from reasonsift.models.builtin import ensure_builtin_model
    from reasonsift.profile import run_profile
    from reasonsift.profile.config import ProfileConfig
    from reasonsift.profile.table import summary_table
    from reasonsift.report.viewer import render_viewer
    from reasonsift.utils.io import atomic_write_text

    out = out or Console()
    root = Path(cfg.out_dir)
    result: dict[str, Any] = {"config": asdict(cfg)}

    out.rule("[bold]1. built-in tasks")
    rows = generate_data(cfg)
    table = Table(show_edge=False)
    for col in ("task", "format", "split", "n", "mean trace chars", "reference verified"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["task"],
            r["format"],
            r["split"],
            str(r["n"]),
            f"{r['mean_trace_chars']:.0f}",
            f"{r['verified']}/{r['n']}",
        )
    out.print(table)
    result["data"] = rows

    out.rule("[bold]2. model")
    model_path = cfg.model or str(ensure_builtin_model("tiny-arith", progress=cfg.progress))
    model, tok = load(model_path)
    result["model"] = model_path
    result["model_parameters"] = sum(p.numel() for p in model.parameters())
    out.print(f"model: {model_path} ({result['model_parameters']:,} parameters)")

    out.rule("[bold]3. evaluate (greedy exact match)")
    ev = evaluate_accuracy(model, tok, ["arith"], n=cfg.eval_n, splits=("test", "ood"), seed=cfg.seed)
    result["eval"] = ev.to_dict()
    rows = [("this model", ev)]
    if cfg.model is None:
        # Do traces matter? The same recipe trained on question -> answer only (no trace), same steps.
        answers_dir = ensure_builtin_model("tiny-arith-answer", progress=cfg.progress)
        ev2 = evaluate_accuracy(
            *load(str(answers_dir)), ["arith"], n=cfg.eval_n, splits=("test", "ood"), seed=cfg.seed
        )
        rows = [("tiny-arith (trained with traces)", ev), ("tiny-arith-answer (answers only)", ev2)]
        result["eval_answer_only"] = ev2.to_dict()
        result["equal_tokens"] = equal_tokens(model_path, answers_dir)
    table = Table(show_edge=False)
    for col in ("model", "arith test (in-distribution)", "arith ood (longer chains)"):
        table.add_column(col)
    for label, e in rows:
        cells = [f"{e.accuracy('arith', s):.3f}" for s in ("test", "ood")]
        table.add_row(label, *cells)
    out.print(table)
    if result.get("equal_tokens"):
        eq = result["equal_tokens"]
        t, a = eq["traces"], eq["answers"]
        out.print(
            f"Same recipe and steps, but the answer-only run saw {eq['tokens_seen']['answers']:,} tokens to the"
            f" trace run's {eq['tokens_seen']['traces']:,} (its documents are shorter). At equal tokens, from"
            f" the runs' training logs ({eq['eval_n']} test items): with traces {t['accuracy']:.2f} at"
            f" {t['tokens']:,} tokens (step {t['step']}), answers only {a['accuracy']:.2f} at {a['tokens']:,}"
            f" tokens (step {a['step']})."
        )

    out.rule(f"[bold]4. sample: pass@k and trace validity ({cfg.sample_k} samples per question, T = 1)")
    sampled = {"this model": (model_path, (model, tok))}
    if cfg.model is None:
        sampled = {"tiny-arith (traces)": sampled["this model"]}
        answers = str(ensure_builtin_model("tiny-arith-answer", progress=cfg.progress))
        sampled["tiny-arith-answer (answers only)"] = (answers, load(answers))
    result["sampling"] = sampling_step(cfg, root, sampled, out)

    out.rule("[bold]5. profile")
    data = root / "data" / "arith-free_form-test.jsonl"
    prof = ProfileConfig(
        data=str(data),
        model=model_path,
        out_dir=str(root / "profile"),
        limit=cfg.profile_n,
        overwrite=True,
        progress=cfg.progress,
    )
    res = run_profile(prof, (model, tok))
    out.print(summary_table(res.stats, f"profile of {res.stats['n_profiled']} held-out arith items"))
    stats = res.stats
    result["profile"] = stats  # all of stats.json: the summary table prints from it

    out.rule("[bold]6. viewer")
    report = render_viewer(root / "profile", root / "report.html")
    result["report"] = str(report)
    out.print(f"token viewer: {report}")

    out.rule("[bold]7. where the reasoning signal sits (arith traces)")
    roles = entropy_by_role(root / "profile")
    table = Table(show_edge=False)
    for col in ("trace token role", "share of tokens", "share of entropy", "share of forking tokens"):
        table.add_column(col)
    for role, v in roles.items():
        table.add_row(role, f"{v['tokens']:.1%}", f"{v['entropy']:.1%}", f"{v['forking']:.1%}")
    out.print(table)
    et = stats.get("entropy_trace", {})
    out.print(
        f"trace tokens with H < 0.01: {et.get('frac_H_below_0_01', float('nan')):.1%}; "
        f"entropy mass in the top 20% of trace tokens: {et.get('top20_entropy_mass', float('nan')):.1%}"
    )
    result["roles"] = roles

    out.rule(
        f"[bold]8. the thesis: {cfg.budget:.0%} chosen by {cfg.recipe} vs {cfg.budget:.0%} at random vs all"
    )
    result["thesis"] = thesis_step(cfg, root, model_path, out)
    atomic_write_text(root / "demo.json", json.dumps(result, indent=2, default=str))
    out.print(f"[bold green]done[/]: {root}/ (demo.json, data/, profile/, report.html, thesis/)")
    return result
