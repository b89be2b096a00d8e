"""C1: forking tokens (the top ~20% by entropy) carry the training signal — re-tested with SFT.

Arms, each fine-tuning the same student on the same data for the same steps (``reasonsift train sft``), only
the tokens in the loss differ: every completion token; the forking tokens (top rho = 0.2 by entropy, per
sequence, recomputed each step); the bottom 80%; a random 20% matched in count per sequence (the control);
and with the full size, forking at rho 0.1 and 0.5. ``base`` is the untrained student. Accuracy is greedy, on
held-out questions of the skill being taught. The built-in setting (calibrated, RETEST.md): the built-in
``tiny-arith`` (pretrained to saturation on arith difficulty 1: greedy 0.685 on 400 test items, 0.25 on
difficulty 2) fine-tuned on arith difficulty 2 and tested on it: one SFT seed of 200 steps x 32 took
completion to 0.43 and forking to 0.415, random 20% to 0.28 (docs/train.md), off the floor and the ceiling.
At 80 steps a first calibration left every arm at or below the base (completion 0.21 vs 0.25): too short.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reasonsift.retest.common import (
    ARITH_SFT,
    BUILTIN_MODEL,
    cost_facts,
    greedy,
    sizes,
    task_data,
    task_examples,
    token_facts,
    trained_arm,
    user_split,
)
from reasonsift.retest.spec import ArmRun, ClaimSpec, register
from reasonsift.retest.verdict import Rule

RHO = 0.2
DIFFICULTIES = (2,)  # trained on
TEST_DIFFICULTY = 2


def arms(quick: bool) -> list[tuple[str, str, float]]:
    """(arm, mask, rho) of the trained arms."""
    out = [("completion", "completion", RHO), ("forking", "forking", RHO), ("bottom", "bottom", RHO),
           ("random", "random", RHO)]  # fmt: skip
    if not quick:
        out += [("forking_rho0.1", "forking", 0.1), ("forking_rho0.5", "forking", 0.5)]
    return out


def setting(cfg, out: Path) -> tuple[str, Path, list, dict]:
    """The student, its training file, the held-out examples and the sizes: the user's, else the built-in
    arith-difficulty-2 SFT setting (shared with C2, C5, C6, C7 and s1/LIMO)."""
    sz = sizes(ARITH_SFT[cfg.quick], cfg)
    model = cfg.model or str(BUILTIN_MODEL)
    if cfg.data:
        data, test = user_split(cfg, out, sz["n_test"])
    else:
        n_train = max(sz["n_train"], sz["steps"] * sz["batch_size"])
        data = task_data(cfg.out_dir, "arith", n_train, DIFFICULTIES)
        test = task_examples("arith", sz["n_test"], (TEST_DIFFICULTY,))
    return model, data, test, sz


def train_kw(sz: dict) -> dict:
    return {"steps": sz["steps"], "batch_size": sz["batch_size"], "lr": sz["lr"], "warmup": sz["warmup"]}


def run(cfg, out: Path) -> ArmRun:
    model, data, test, sz = setting(cfg, out)
    root = cfg.out_dir
    base = greedy(root, model, test)
    scores = {"base": np.repeat(base[:, None], len(cfg.seed_list), 1)}
    facts: dict[str, dict] = {}
    trained_first: list[Path] = []
    for name, mask, rho in arms(cfg.quick):
        cols, costs = [], []
        for seed in cfg.seed_list:
            run_dir, cost = trained_arm(root, f"sft-{name}", model, data, seed, mask=mask, rho=rho,
                                        **train_kw(sz))  # fmt: skip
            cols.append(greedy(root, run_dir / "model", test))
            costs.append(cost)
            if seed == cfg.seed_list[0]:
                trained_first.append(run_dir / "model")
        scores[name] = np.stack(cols, 1)
        facts[name] = cost_facts(costs, sz["steps"])
    from reasonsift.data.io import read_examples

    sample = read_examples(data).examples[:128]
    tf = token_facts(model, trained_first, sample, RHO)
    for (name, _, _), ov in zip(arms(cfg.quick), tf.pop("top_positions_overlap"), strict=True):
        facts[name]["top20_overlap_with_start"] = ov
    facts["base"] = {"profile": tf}
    notes = [
        f"{len(test)} held-out questions x {len(cfg.seed_list)} seeds; {sz['steps']} SFT steps of "
        f"{sz['batch_size']} sequences per arm, lr {sz['lr']:g} cosine; model {model}; "
        + ("data " + str(cfg.data) if cfg.data else f"arith difficulty {DIFFICULTIES} -> test difficulty "
           f"{TEST_DIFFICULTY}"),
        f"Starting model on {tf['tokens']} completion tokens: {tf['share_entropy_below_0.01']:.1%} have "
        f"H < 0.01 (paper, Qwen3-8B CoT: > 50%); 80th percentile of H {tf['entropy_p80']:.3f} (paper: ~0.67).",
    ]  # fmt: skip
    return ArmRun(scores=scores, facts=facts, notes=notes)


SPEC = register(
    ClaimSpec(
        id="C1",
        title="Forking tokens carry the signal",
        claim="Only ~20% of tokens (high-entropy 'forking' tokens) carry the RL signal; training on them "
        "alone matches or beats training on all tokens.",
        source='Wang et al., "Beyond the 80/20 Rule: High-Entropy Minority Tokens Drive Effective '
        'Reinforcement Learning for LLM Reasoning", arXiv 2506.01939 (RLVR with DAPO on Qwen3 8B/14B/32B).',
        attribution_note="The paper tests RL (policy gradient on the top 20% of tokens); this re-test applies "
        "the same mask to SFT, which the paper does not test (CLAIMS.md asks for both). Its >86% overlap "
        "and >50% of tokens below H 0.01 are facts about Qwen3 CoT, not laws.",
        rule=Rule("at_least", "forking", "completion", "held-out accuracy", 0.03),
        needs="--model (a causal LM) and --data (examples with traces and answers; --test-data or a 20% "
        "hold-out for testing). Runs SFT: 4 arms (6 without --quick) x seeds.",
        arms=(
            ("base", "the starting model, untrained"),
            ("completion", "SFT, loss on every completion token"),
            ("forking", "SFT, loss on the top 20% of completion tokens by entropy (per sequence)"),
            ("bottom", "SFT, loss on the other 80%"),
            ("random", "SFT, loss on a random 20% matched in count per sequence (the control)"),
            ("forking_rho0.1", "forking at rho 0.1 (full size only)"),
            ("forking_rho0.5", "forking at rho 0.5 (full size only)"),
        ),
        comparisons=(("forking", "random"), ("bottom", "completion"), ("completion", "base")),
        run=run,
    )
)
