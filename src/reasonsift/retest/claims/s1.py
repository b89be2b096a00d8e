"""s1: "less is more" — a small set chosen by quality, difficulty and diversity matches the whole pool.

Arms, each fine-tuning the same student for the same optimizer steps (``reasonsift train sft``), only the data
differs: the ``s1`` recipe of ``reasonsift select`` at a budget of 10% of the pool (quality: drop broken items;
difficulty: drop what the student solves greedily, from a ``reasonsift eval`` run of the student on the pool;
diversity: uniform over domains, within one p ∝ 2^-rank by trace length, a fresh draw per seed); a random subset
of the same size (the control, a fresh draw per seed); the whole pool; ``base`` is the untrained student.
The setting (pool of arith difficulties 1-2, tested on difficulty 2, sizes) is :mod:`.pool`'s, shared with C7
and LIMO: the full-pool and random arms are the same training runs in all three.
"""

from __future__ import annotations

from pathlib import Path

from reasonsift.retest.claims.pool import (
    SUBSET,
    base_scores,
    full_arm,
    pool_setting,
    random_data,
    recipe_arm,
    regime_note,
    setting_note,
    student_eval,
    train_eval,
)
from reasonsift.retest.spec import ArmRun, ClaimSpec, register
from reasonsift.retest.verdict import Rule


def run(cfg, out: Path) -> ArmRun:
    pool = pool_setting(cfg, out)
    ev = student_eval(cfg, pool, pool.path, 1)  # s1's difficulty filter: what the student solves greedily
    data, sel = recipe_arm(cfg, pool, "s1", "s1", eval_run=ev)
    scores, facts = {"base": base_scores(cfg, pool)}, {}
    scores["s1"], facts["s1"] = train_eval(cfg, pool, SUBSET, data)
    facts["s1"].update(sel)
    scores["random"], facts["random"] = train_eval(cfg, pool, SUBSET, random_data(cfg, pool))
    scores["full"], facts["full"] = full_arm(cfg, pool)
    solved = [st for st in sel["stages"] if st["stage"] == "difficulty"]
    notes = [
        setting_note(cfg, pool),
        "Deviation: s1 dropped what Qwen2.5-7B/32B-Instruct solved; here the student itself is the judge "
        "(greedy, one attempt), as the shipped recipe does with --eval"
        + (f": it dropped {solved[0]['dropped']} of {solved[0]['in']} pool questions." if solved else "."),
        "Equal steps, not equal epochs: the subsets are seen 10x as often as the pool (s1 trained its 1K "
        "for 5 epochs; the 59K-pool comparison in the paper was not at equal steps).",
    ]
    notes += regime_note(scores, pool.sz["steps"])
    return ArmRun(scores=scores, facts=facts, notes=notes)


SPEC = register(
    ClaimSpec(
        id="s1",
        title="s1: a small curated set matches the full pool",
        claim="For reasoning the most valuable data is often the smallest, structurally selected slice "
        "(the note's thesis; CLAIMS.md anchors it on s1): about 1K examples chosen for quality, difficulty "
        "and diversity train as well as the whole pool they come from.",
        source='Muennighoff et al., "s1: Simple test-time scaling", arXiv 2501.19393 (59K questions -> s1K '
        "by quality, difficulty and diversity; SFT of Qwen2.5-32B-Instruct).",
        attribution_note=None,
        rule=Rule("at_least", "s1", "full", "held-out accuracy", 0.03),
        needs="--model (a causal LM) and --data (the pool: examples with traces and answers; --test-data or a "
        "20% hold-out). Runs reasonsift eval of the student on the pool, then SFT: 3 arms x seeds (the "
        "full-pool and random arms shared with C7 and LIMO).",
        arms=(
            ("base", "the starting model, untrained"),
            ("s1", "SFT on the s1 recipe's 10% of the pool (quality -> difficulty -> diversity)"),
            ("random", "SFT on a random 10% of the pool (the control, same size)"),
            ("full", "SFT on the whole pool (same steps)"),
        ),
        comparisons=(("s1", "random"), ("random", "full"), ("full", "base"), ("s1", "base")),
        run=run,
    )
)
