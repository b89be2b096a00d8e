"""LIMO: "less is more for reasoning" — a few hundred hard problems with good chains match or beat a big pool.

Arms, each fine-tuning the same student for the same optimizer steps (``reasonsift train sft``), only the data
differs: the ``limo`` recipe of ``reasonsift select`` at a budget of 10% of the pool; a random subset of the
same size (the control); the whole pool; ``base`` is the untrained student. LIMO's two difficulty filters,
scaled down: (1) drop what a smaller model solves (LIMO: Qwen2.5-Math-7B) — here the student's greedy eval of
the pool, the same run as s1's; (2) keep problems a strong model solves only 1-3 times in 32 samples — here
the student samples ``k`` times (temperature 1) the questions it did not solve greedily, and the band is
1..ceil(3k/32) correct (exactly 1 of 4 at --quick, 1 of 8 at full size). Then the recipe's chain stage ranks
the rest by rule features and the budget keeps the best (ties: a seeded shuffle, fresh per seed).
The setting is :mod:`.pool`'s, shared with C7 and s1 (the full-pool and random arms are the same runs).
"""

from __future__ import annotations

from pathlib import Path

from reasonsift.retest.claims.pool import (
    SUBSET,
    base_scores,
    full_arm,
    limo_band,
    pool_setting,
    random_data,
    recipe_arm,
    regime_note,
    setting_note,
    solved_greedily,
    student_eval,
    train_eval,
)
from reasonsift.retest.spec import ArmRun, ClaimSpec, register
from reasonsift.retest.verdict import Rule


def run(cfg, out: Path) -> ArmRun:
    from reasonsift.data.io import read_examples, write_examples

    pool = pool_setting(cfg, out)
    k = pool.sz["limo_k"]
    solved = solved_greedily(cfg, pool)  # filter (1), shared with s1
    unsolved = [e for e in pool.examples if e.id not in solved]
    upath = Path(cfg.out_dir) / "data" / "subsets" / f"unsolved-{pool.path.stem}.jsonl"
    upath.parent.mkdir(parents=True, exist_ok=True)
    write_examples(unsolved, upath)
    ev = student_eval(cfg, pool, upath, k)  # filter (2): k samples of what survived (1)
    lo, hi = limo_band(k)
    data, sel = recipe_arm(cfg, pool, "limo", "limo", eval_run=ev,
                           params={"difficulty": {"min_correct": lo, "max_correct": hi}})  # fmt: skip
    scores, facts = {"base": base_scores(cfg, pool)}, {}
    scores["limo"], facts["limo"] = train_eval(cfg, pool, SUBSET, data)
    facts["limo"].update(sel)
    facts["limo"]["band"] = f"{lo}-{hi} correct of {k} samples"
    sizes = {len(read_examples(p).examples) for p in data.values()}
    m = sizes.pop() if len(sizes) == 1 else pool.n
    # the control has the limo arm's size (the shared 10% when the band passed at least that many)
    scores["random"], facts["random"] = train_eval(cfg, pool, SUBSET, random_data(cfg, pool, m))
    scores["full"], facts["full"] = full_arm(cfg, pool)
    band = [st for st in sel["stages"] if st["stage"] == "difficulty"]
    kept = band[0]["kept"] if band else None
    notes = [
        setting_note(cfg, pool),
        f"Deviation (scale): LIMO samples 32 times with a stronger model; here the student samples k = {k} "
        f"times the {len(unsolved)} of {len(pool.examples)} pool questions it does not solve greedily, and keeps "
        f"{lo}-{hi} correct of {k} ({kept} questions passed the band). Greedy-solved questions are absent from "
        "the sampled eval run, so the recipe's difficulty stage drops them as 'no eval result'.",
        "The chain stage's rule features (words, self-verification, exploration, connectives) are constant on "
        "arith traces (one word, no phrases), so its ranking is a tie and the budget's seeded shuffle decides.",
    ]
    if m < pool.n:
        notes.append(
            f"The band passed {kept} < {pool.n} questions (the budget): the limo arm trains on {m} examples and "
            f"its random control is drawn at the same size ({m}), not the shared 10% of C7 and s1; same steps."
        )
    notes += regime_note(scores, pool.sz["steps"])
    return ArmRun(scores=scores, facts=facts, notes=notes)


SPEC = register(
    ClaimSpec(
        id="limo",
        title="LIMO: a few hard, well-reasoned problems match the full pool",
        claim="Reasoning is taught by a few well-chosen signals rather than accumulated volume (the note's "
        "thesis; CLAIMS.md anchors it on LIMO): a few hundred hard problems with high-quality chains train as "
        "well as a pool a hundred times bigger.",
        source='Ye et al., "LIMO: Less is More for Reasoning", arXiv 2502.03387 (817 problems: drop what '
        "Qwen2.5-Math-7B solves, keep what a strong model solves 1-3 times in 32, rank chains by rule "
        "features; SFT of Qwen2.5-32B-Instruct).",
        attribution_note=None,
        rule=Rule("at_least", "limo", "full", "held-out accuracy", 0.03),
        needs="--model (a causal LM) and --data (the pool: examples with traces and answers; --test-data or a "
        "20% hold-out). Runs a greedy and a sampled (k = 4, 8 at full size) reasonsift eval of the student "
        "on the pool, then SFT: 3 arms x seeds (the full-pool and random arms shared with C7 and s1).",
        arms=(
            ("base", "the starting model, untrained"),
            ("limo", "SFT on the limo recipe's 10% of the pool (difficulty band -> chain score -> budget)"),
            (
                "random",
                "SFT on a random subset of the limo arm's size (the control; 10% when the band fills it)",
            ),
            ("full", "SFT on the whole pool (same steps)"),
        ),
        comparisons=(("limo", "random"), ("random", "full"), ("full", "base"), ("limo", "base")),
        run=run,
    )
)
