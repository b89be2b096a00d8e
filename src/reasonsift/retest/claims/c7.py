"""C7: refined data helps only inside the student's learning frontier (IFD selection, selective reflection).

Two parts on the setting of :mod:`.pool` (shared with s1 and LIMO; every arm the same optimizer steps):

1. **IFD selection** (Cherry LLM): the ``ifd`` recipe of ``reasonsift select`` — IFD = s(A|Q) / s(A) from the
   student's profile of the pool, drop IFD >= 1, keep the highest-IFD 10% — against a random 10% (the rule) and
   the whole pool.
2. **Selective reflection** (Selective Reflection-Tuning): each seed's random 10% (the ``random`` arm: the
   originals) gets a teacher refinement (Q*, A*) per example, built here because the built-in tasks have no
   teacher. Half are *inside* the frontier (a moderate rewrite: one more 2-digit term, the chain a step longer,
   e.g. difficulty 1 -> difficulty 2's length), half *outside* (written at a harder difficulty: every operand
   scaled to 4 digits and one more 4-digit term; the student solves no chain with 3-digit operands). A
   refinement's trace is the task's own correct chain (checked by ``task.check_trace``). Arms: ``reflect`` —
   the selective-reflection rule (``reasonsift.select.reflect.reflect_pairs``, scored by the student) picks
   (Q*, A*), (Q, A*) or drops the refinement, a dropped refinement leaves its original in place (the paper
   chooses between the original and the refined pair; the set keeps its size); ``keepall`` — every
   refinement replaces its original; at full size also ``inside`` — the oracle that keeps only the inside
   refinements (the claim's premise, tested directly) — and ``outside`` (only the outside ones); --quick has
   no time for them.

``base`` is the untrained student. A user's data (``--data``) runs part 1 only: part 2 needs a teacher's pairs
(``reasonsift select reflect ORIGINAL REFINED``).
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from reasonsift.retest.claims.pool import (
    SUBSET,
    base_scores,
    full_arm,
    pool_setting,
    random_data,
    recipe_arm,
    regime_note,
    setting_note,
    student_profile,
    train_eval,
    write_subset,
)
from reasonsift.retest.spec import ArmRun, ClaimSpec, register
from reasonsift.retest.verdict import Rule

INSIDE, OUTSIDE = "inside", "outside"
KINDS = (INSIDE, OUTSIDE)


def arith_chain(nums: list[int], ops: list[str]) -> tuple[str, str, str]:
    """(question, trace, answer) of an add/subtract chain in the built-in arith form
    (``27-40+88`` / ``27-40=-13;-13+88=75`` / ``75``)."""
    if len(ops) != len(nums) - 1 or not ops:
        raise ValueError(f"chain: {len(nums)} numbers need {len(nums) - 1} >= 1 operators, got {len(ops)}")
    acc, steps = nums[0], []
    for o, v in zip(ops, nums[1:], strict=True):
        new = acc + v if o == "+" else acc - v
        steps.append(f"{acc}{o}{v}={new}")
        acc = new
    question = str(nums[0]) + "".join(f"{o}{v}" for o, v in zip(ops, nums[1:], strict=True))
    return question, ";".join(steps), str(acc)


def refine(ex, kind: str, rng: random.Random):
    """A teacher's refinement (Q*, A*) of an arith example, same id. ``inside``: one more 2-digit term;
    ``outside``: every operand v -> 100 v + (0..99) (4 digits) and one more 4-digit term."""
    toks = re.findall(r"\d+|[+-]", ex.question)
    nums, ops = [int(toks[0])] + [int(t) for t in toks[2::2]], list(toks[1::2])
    if kind == INSIDE:
        nums.append(rng.randint(10, 99))
    elif kind == OUTSIDE:
        nums = [100 * v + rng.randint(0, 99) for v in nums] + [rng.randint(1000, 9999)]
    else:
        raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")
    q, t, a = arith_chain(nums, [*ops, rng.choice("+-")])
    meta = {"task": "arith", "refinement": kind, "refined_from": ex.id, "n_terms": len(nums)}
    return dataclasses.replace(ex, question=q, trace=t, answer=a, choices=None, meta=meta)


def refinements(originals: list, seed: int) -> list:
    """Every original's refinement: inside and outside alternating in the originals' order."""
    return [refine(e, KINDS[i % 2], random.Random(f"{seed}:{e.id}")) for i, e in enumerate(originals)]


def reflection_sets(originals: list, refined: list, rows: list[dict]) -> dict[str, list]:
    """The training sets of the reflection arms, each one example per original, in order: ``reflect`` (the
    rule's choice, the original where it drops the refinement), ``keepall``, ``inside``, ``outside``."""
    from reasonsift.data.example import Example
    from reasonsift.select.reflect import DROPPED

    out: dict[str, list] = {"reflect": [], "keepall": [], INSIDE: [], OUTSIDE: []}
    for o, r, row in zip(originals, refined, rows, strict=True):
        if not (o.id == r.id == row["id"]):
            raise ValueError(f"ids: original {o.id!r}, refined {r.id!r} and rule row {row['id']!r} differ")
        out["reflect"].append(o if row["choice"] == DROPPED else Example.from_dict(row))
        out["keepall"].append(r)
        kind = r.meta["refinement"]
        out[INSIDE].append(r if kind == INSIDE else o)
        out[OUTSIDE].append(r if kind == OUTSIDE else o)
    return out


def rule_facts(refined: list, rows: list[dict]) -> dict[str, Any]:
    """What the rule did per kind of refinement: choices, median IFD of both pairs, and the share of pairs
    whose two r-IFDs in the deciding comparison are both < 1 (the rule's feasibility condition)."""
    out: dict[str, Any] = {}
    for kind in KINDS:
        rs = [row for r, row in zip(refined, rows, strict=True) if r.meta["refinement"] == kind]
        if not rs:
            continue
        feasible = [
            (row["rifd_qstar_astar"] < 1 and row["rifd_qstar_a"] < 1)
            if row["branch"] == "refined_question"
            else (row["rifd_q_astar"] < 1 and row["rifd_q_a"] < 1)
            for row in rs
        ]
        out[kind] = {
            "choices": dict(Counter(row["choice"] for row in rs)),
            "median_ifd_original": float(np.nanmedian([row["ifd_q"] for row in rs])),
            "median_ifd_refined": float(np.nanmedian([row["ifd_qstar"] for row in rs])),
            "median_rifd_refined": float(np.nanmedian([row["rifd_qstar_astar"] for row in rs])),
            "share_both_rifd_below_1": float(np.mean(feasible)),
        }
    return out


def _is_arith(examples: list) -> bool:
    return all(isinstance(e.meta, dict) and e.meta.get("task") == "arith" for e in examples)


def run(cfg, out: Path) -> ArmRun:
    from reasonsift.data.io import read_examples

    pool = pool_setting(cfg, out)
    prof = student_profile(cfg, pool)
    scores, facts = {"base": base_scores(cfg, pool)}, {}
    data, sel = recipe_arm(cfg, pool, "ifd", "ifd", profile=prof)
    scores["ifd"], facts["ifd"] = train_eval(cfg, pool, SUBSET, data)
    facts["ifd"].update(sel)
    rand = random_data(cfg, pool)
    scores["random"], facts["random"] = train_eval(cfg, pool, SUBSET, rand)
    scores["full"], facts["full"] = full_arm(cfg, pool)
    notes = [setting_note(cfg, pool)]
    if not _is_arith(pool.examples):
        notes.append("Selective reflection not run: it needs teacher refinements of the pool (built-in arith "
                     "only); run `reasonsift select reflect ORIGINAL REFINED -m MODEL` on your pairs.")  # fmt: skip
        notes += regime_note(scores, pool.sz["steps"])
        return ArmRun(scores=scores, facts=facts, notes=notes)

    from reasonsift.models.load import load
    from reasonsift.select.reflect import reflect_pairs

    lm, tok = load(pool.model)
    arms = ["reflect", "keepall"] + ([] if cfg.quick else [INSIDE, OUTSIDE])
    sets: dict[str, dict[int, Path]] = {}
    per_kind: dict[str, Any] = {}
    for seed in cfg.seed_list:
        originals = read_examples(rand[seed]).examples
        refined = refinements(originals, seed)
        rows = reflect_pairs(originals, refined, lm, tok)
        for arm, exs in reflection_sets(originals, refined, rows).items():
            if arm in arms:
                sets.setdefault(arm, {})[seed] = write_subset(cfg, f"c7-{arm}", seed, exs)
        if seed == cfg.seed_list[0]:
            per_kind = rule_facts(refined, rows)
    for arm in arms:
        scores[arm], facts[arm] = train_eval(cfg, pool, SUBSET, sets[arm])
    facts["reflect"]["rule_by_refinement"] = per_kind
    kept = {k: v["choices"].get("refined", 0) + v["choices"].get("original_q_refined_a", 0)
            for k, v in per_kind.items()}  # fmt: skip
    n_kind = {k: sum(v["choices"].values()) for k, v in per_kind.items()}
    same = all(sets["reflect"][s].read_bytes() == rand[s].read_bytes() for s in cfg.seed_list)
    notes += [
        f"Selective-reflection rule, seed {cfg.seed_list[0]}: kept {kept.get(INSIDE, 0)} of "
        f"{n_kind.get(INSIDE, 0)} inside and {kept.get(OUTSIDE, 0)} of {n_kind.get(OUTSIDE, 0)} outside "
        "refinements; share of pairs whose deciding r-IFDs are both < 1 (the rule's feasibility condition): "
        + ", ".join(f"{k} {v['share_both_rifd_below_1']:.0%}" for k, v in per_kind.items())
        + ". r-IFD = PPL(Q|A) / PPL(Q) is scored under an English 'guess the instruction' prompt"
        + (
            "; the rule kept no refinement for any seed, so the reflect arm trained on the random arm's "
            "data (one shared run), and reflect - keepall is originals - refinements."
            if same
            else "."
        ),
        "The refinements are built, not written by a teacher LLM: inside = one more 2-digit term; outside = "
        "4-digit operands and one more term. Equal steps, not equal tokens: refined traces are longer "
        "(tokens_seen per arm).",
    ]
    notes += regime_note(scores, pool.sz["steps"])
    return ArmRun(scores=scores, facts=facts, notes=notes)


SPEC = register(
    ClaimSpec(
        id="C7",
        title="Refined data helps only inside the student's frontier",
        claim="Teacher-refined data degrades performance when it exceeds the student's learning frontier, "
        "even if objectively higher quality; students should filter refinements using their own statistical "
        "profile to retain only compatible improvements.",
        source='Li et al., "Selective Reflection-Tuning: Student-Selected Data Recycling for LLM '
        'Instruction-Tuning", arXiv 2402.10110; IFD from Li et al., "From Quantity to Quality: Boosting LLM '
        'Performance with Self-Guided Data Selection for Instruction Tuning" (Cherry LLM), arXiv 2308.12032.',
        attribution_note=None,
        rule=Rule("better", "ifd", "random", "held-out accuracy", 0.03),
        needs="--model (a causal LM) and --data (the pool: examples with traces and answers; --test-data or a "
        "20% hold-out). Runs reasonsift profile of the pool by the student (IFD), then SFT: 3 arms x seeds "
        "(full and random shared with s1 and LIMO). The reflection arms need original/refined pairs: built "
        "for the built-in arith pool; for your own, `reasonsift select reflect ORIGINAL REFINED -m MODEL`.",
        arms=(
            ("base", "the starting model, untrained"),
            ("ifd", "SFT on the top 10% of the pool by the student's IFD (IFD >= 1 dropped)"),
            ("random", "SFT on a random 10% (the control; also the originals of the refinements)"),
            ("full", "SFT on the whole pool (same steps)"),
            (
                "reflect",
                "SFT on the selective-reflection rule's choice per original (original where dropped)",
            ),
            ("keepall", "SFT on every refinement (half inside, half outside the frontier)"),
            ("inside", "SFT with only the inside-frontier refinements kept (the oracle; full size only)"),
            ("outside", "SFT with only the outside-frontier refinements kept (full size only)"),
        ),
        comparisons=(
            ("ifd", "full"),
            ("random", "full"),
            ("full", "base"),
            ("reflect", "keepall"),
            ("inside", "keepall"),
            ("keepall", "random"),
            ("inside", "random"),
            ("outside", "inside"),
        ),  # fmt: skip
        run=run,
    )
)
