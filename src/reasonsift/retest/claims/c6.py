"""C6: SFT raises accuracy but lowers the information each reasoning step adds (information gain, -38.9%).

Arms: the starting model (``base``) and the model after SFT (``trained``: C1's ``completion`` arm, one per
seed, shared in ``retest all``; or ``--trained``). Each answers the same held-out questions greedily through
``reasonsift eval`` (the same rendering, verifiers and trace-quality columns), and the *same fixed scorer* —
the starting model — scores the information gain of every generated trace (eval's ``--scorer-model``;
profile engine, answer tokens' NLL after each step; CLAIMS.md C6's formula, docs/profile.md).

The rule's metric is a question's information gain relative to the base model's mean information gain over
the scored questions (so the margin is a share: the paper's drop is 38.9%). A question counts when every
arm and seed produced a scorable trace (a closed ``<think>`` block with at least one step and an answer);
the others are counted in the notes. Accuracy over every question is the further metric.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reasonsift.retest.claims.c1 import RHO, setting, train_kw
from reasonsift.retest.common import cached_scores, cost_facts, trained_arm
from reasonsift.retest.spec import ArmRun, ClaimSpec, register
from reasonsift.retest.verdict import Rule

ACCURACY = "held-out accuracy"


def eval_rows(model: str | Path, scorer: str | Path, test: list, out: Path) -> tuple[np.ndarray, np.ndarray]:
    """Greedy answers of ``model`` to ``test`` with ``reasonsift eval``: per-question correctness and the
    information gain of the generated trace under ``scorer`` (nan where the trace is not scorable)."""
    import pyarrow.parquet as pq

    from reasonsift.data.io import write_examples
    from reasonsift.evaluate.stage import EvalStageConfig, main

    data = out / "test.jsonl"
    data.parent.mkdir(parents=True, exist_ok=True)
    write_examples(test, data)
    cfg = EvalStageConfig(
        model=str(model), data=str(data), out_dir=str(out / "eval"), scorer_model=str(scorer), device="cpu",
        dtype="float32", progress=False, overwrite=True, batch_size=64,
    )  # fmt: skip
    main(cfg)
    rows = pq.read_table(out / "eval" / "samples.parquet", columns=["id", "score", "info_gain"]).to_pylist()
    by_id = {r["id"]: r for r in rows}
    score = np.array([float(by_id[e.id]["score"]) for e in test])
    ig = np.array([np.nan if by_id[e.id]["info_gain"] is None else by_id[e.id]["info_gain"] for e in test])
    return score, ig


def run(cfg, out: Path) -> ArmRun:
    base_model, data, test, sz = setting(cfg, out)
    root = cfg.out_dir
    n = len(cfg.seed_list)

    def scored(model: str | Path, tag: str) -> tuple[np.ndarray, np.ndarray]:
        both = cached_scores(
            root, model, test, f"c6-eval-{Path(str(base_model)).name}",
            lambda: np.stack(eval_rows(model, base_model, test, out / "evals" / tag)),
        )  # fmt: skip
        return both[0], both[1]

    acc0, ig0 = scored(base_model, "base")
    acc, ig, costs = [], [], []
    for seed in cfg.seed_list:
        if cfg.trained:
            model = cfg.trained
        else:
            run_dir, cost = trained_arm(root, "sft-completion", base_model, data, seed, mask="completion",
                                        rho=RHO, **train_kw(sz))  # fmt: skip
            model = run_dir / "model"
            costs.append(cost)
        a, g = scored(model, f"trained-seed{seed}")
        acc.append(a)
        ig.append(g)
    ig_t = np.stack(ig, 1)
    ok = np.isfinite(ig0) & np.isfinite(ig_t).all(1)
    if ok.sum() < 2:
        raise ValueError(
            f"C6: only {int(ok.sum())} of {len(test)} questions have a scorable generated trace in every arm "
            "(a <think> block with steps and an answer after it); information gain needs traces"
        )
    scale = float(np.abs(ig0[ok]).mean()) or 1.0
    scores = {"base": np.repeat((ig0[ok] / scale)[:, None], n, 1), "trained": ig_t[ok] / scale}
    accuracy = {"base": np.repeat(acc0[:, None], n, 1), "trained": np.stack(acc, 1)}
    facts = {
        "base": {"mean_info_gain": float(ig0[ok].mean()), "scale": scale, "scored_questions": int(ok.sum())},
        "trained": {"mean_info_gain": float(ig_t[ok].mean())}
        | (cost_facts(costs, sz["steps"]) if costs else {"model": str(cfg.trained)}),
    }
    rel = ig_t[ok].mean() / ig0[ok].mean() - 1 if ig0[ok].mean() else float("nan")
    notes = [
        f"{len(test)} held-out questions x {n} seeds; information gain on the {int(ok.sum())} questions whose "
        f"generated traces every arm and seed made scorable; fixed scorer: the starting model {base_model}.",
        f"Mean information gain {ig0[ok].mean():.4g} (base) -> {ig_t[ok].mean():.4g} (trained), {rel:+.1%} "
        f"(paper: -38.9%); accuracy {acc0.mean():.1%} -> {np.mean(acc):.1%}.",
        "Metric of the rule: a question's information gain divided by the base model's mean over those "
        f"questions ({scale:.4g}); a drop of 0.1 is 10% of the base model's information gain.",
    ]
    return ArmRun(scores=scores, facts=facts, notes=notes, metrics={ACCURACY: accuracy})


SPEC = register(
    ClaimSpec(
        id="C6",
        title="SFT lowers information gain",
        claim="SFT raises accuracy but lowers the information gain of each reasoning step (-38.9%).",
        source='Wu et al., "Knowledge or Reasoning? A Close Look at How LLMs Think Across Domains", '
        "arXiv 2506.02126.",
        attribution_note="The note's research prompt cites arXiv 2508.01191 for this claim; the -38.9% figure "
        "is from 2506.02126. Its code scores the perplexity of the whole sequence and an LLM paraphrase of "
        "each step; here the answer tokens of the original steps are scored (CLAIMS.md C6).",
        rule=Rule("worse", "trained", "base", "information gain (share of the base model's)", 0.1),
        needs="--model (the start, also the fixed scorer) and --data with traces and answers, or --trained "
        "(the post-trained model); generated traces must put steps in a <think> block before the answer.",
        arms=(
            ("base", "the starting model's own traces"),
            ("trained", "the traces of the model after SFT"),
        ),
        run=run,
    )
)
