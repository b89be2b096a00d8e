"""C7 (IFD selection and selective reflection) on a tiny configuration, and its helpers against plain loops."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from reasonsift.data.example import Example
from reasonsift.retest.claims import c7
from reasonsift.retest.claims.pool import POOL
from reasonsift.retest.runner import RetestConfig, main
from reasonsift.retest.verdict import VERDICTS
from reasonsift.select.reflect import DROPPED, ORIGINAL_Q_REFINED_A, REFINED
from reasonsift.tasks import get_task

KEYS = {"verdict", "rule", "effect", "ci_low", "ci_high", "seeds", "arms", "source", "attribution_note"}


def _arith(i: int, q: str, trace: str, ans: str) -> Example:
    return Example(id=f"a{i}", question=q, trace=trace, answer=ans, meta={"task": "arith", "difficulty": 1})


def test_arith_chain_and_refinements_are_correct_arith():
    assert c7.arith_chain([27, 40, 88], ["-", "+"]) == ("27-40+88", "27-40=-13;-13+88=75", "75")
    with pytest.raises(ValueError, match="operators"):
        c7.arith_chain([1, 2], [])
    task = get_task("arith")
    ex = get_task("arith").generate(20, seed=3, difficulty=1)
    for kind in c7.KINDS:
        for e in ex:
            r = c7.refine(e, kind, random.Random(e.id))
            assert r.id == e.id and r.meta["refinement"] == kind
            assert task.check_trace(r, r.trace).valid
            assert task.verify(f"<think>{r.trace}</think>{r.answer}", r).correct
            # the answer by a plain evaluation of the question
            assert int(r.answer) == eval(r.question)  # noqa: S307 - digits and +/- only
            n_q, n_r = (
                len(e.question.replace("-", "+").split("+")),
                len(r.question.replace("-", "+").split("+")),
            )
            assert n_r == n_q + 1
            assert r.question.startswith(e.question) == (kind == c7.INSIDE)
            ops = [int(x) for x in r.question.replace("-", "+").split("+")]
            assert (
                all(1000 <= v <= 9999 for v in ops) if kind == c7.OUTSIDE else all(10 <= v <= 99 for v in ops)
            )
    bad = c7.refine(ex[0], c7.INSIDE, random.Random(0))
    broken = bad.trace.replace("=", "=1", 1)  # a wrong step must fail the task's own check
    assert not task.check_trace(bad, broken).valid
    with pytest.raises(ValueError, match="kind"):
        c7.refine(ex[0], "elsewhere", random.Random(0))
    kinds = [r.meta["refinement"] for r in c7.refinements(ex[:5], seed=0)]
    assert kinds == ["inside", "outside", "inside", "outside", "inside"]


def _row(o, r, choice, branch="refined_question", **nums):
    base = {"ifd_q": 0.1, "ifd_qstar": 0.5, "rifd_qstar_astar": 2.0, "rifd_qstar_a": 3.0, "rifd_q_astar": 2.0,
            "rifd_q_a": 3.0}  # fmt: skip
    base.update(nums)
    chosen = {
        REFINED: r,
        ORIGINAL_Q_REFINED_A: Example(
            id=o.id, question=o.question, trace=r.trace, answer=r.answer, meta=r.meta
        ),
    }
    fields = chosen[choice].to_dict() if choice in chosen else dict.fromkeys(("question", "trace", "answer"))
    return {**fields, "id": o.id, "choice": choice, "branch": branch, "reason": "x", **base}


def test_reflection_sets_and_rule_facts_match_a_plain_loop():
    orig = [_arith(i, f"1{i}+2{i}", f"1{i}+2{i}={30 + 2 * i}", str(30 + 2 * i)) for i in range(6)]
    refd = c7.refinements(orig, seed=1)
    choices = [REFINED, DROPPED, ORIGINAL_Q_REFINED_A, DROPPED, REFINED, REFINED]
    rows = [_row(o, r, ch, rifd_qstar_astar=0.5 if i < 2 else 2.0, rifd_qstar_a=0.7)
            for i, (o, r, ch) in enumerate(zip(orig, refd, choices, strict=True))]  # fmt: skip
    sets = c7.reflection_sets(orig, refd, rows)
    for i, (o, r, ch) in enumerate(zip(orig, refd, choices, strict=True)):
        want = o if ch == DROPPED else (r if ch == REFINED else None)
        got = sets["reflect"][i]
        if want is None:  # (Q, A*): the original question with the refined trace and answer
            assert (got.question, got.trace, got.answer) == (o.question, r.trace, r.answer)
        else:
            assert got.to_dict() == want.to_dict()
        assert sets["keepall"][i] is r
        assert sets["inside"][i] is (r if i % 2 == 0 else o)
        assert sets["outside"][i] is (o if i % 2 == 0 else r)
    facts = c7.rule_facts(refd, rows)
    for kind, idx in (("inside", [0, 2, 4]), ("outside", [1, 3, 5])):
        feasible = sum(1 for i in idx if rows[i]["rifd_qstar_astar"] < 1 and rows[i]["rifd_qstar_a"] < 1)
        assert facts[kind]["share_both_rifd_below_1"] == pytest.approx(feasible / len(idx))
        counts: dict[str, int] = {}
        for i in idx:
            counts[choices[i]] = counts.get(choices[i], 0) + 1
        assert facts[kind]["choices"] == counts
    assert (
        facts["inside"]["share_both_rifd_below_1"] == 1 / 3
        and facts["outside"]["share_both_rifd_below_1"] == 1 / 3
    )
    with pytest.raises(ValueError, match="ids"):
        c7.reflection_sets(orig, refd[::-1], rows)


def test_c7_tiny_run(tmp_path, monkeypatch):
    monkeypatch.setitem(POOL[True], "n_pool", 40)
    monkeypatch.setitem(POOL[True], "batch_size", 8)
    out = tmp_path / "rt"
    main(RetestConfig(claim="C7", quick=True, seeds=2, steps=2, n_test=8, out_dir=str(out)))
    e = json.loads((out / "verdicts.json").read_text())["C7"]
    assert set(e) >= KEYS and e["verdict"] in VERDICTS and e["seeds"] == [0, 1]
    assert set(e["arms"]) == {"base", "ifd", "random", "full", "reflect", "keepall"}
    for arm in e["arms"].values():
        m = arm["metric"]
        assert len(m["per_seed"]) == 2 and m["ci_low"] <= m["mean"] <= m["ci_high"]
    f, r = e["arms"]["ifd"]["metric"], e["arms"]["random"]["metric"]
    assert e["effect"] == pytest.approx(f["mean"] - r["mean"]) and e["rule_a"] == "ifd"
    assert e["arms"]["ifd"]["n_examples"] == e["arms"]["random"]["n_examples"] == 4  # 10% of 40
    assert e["arms"]["full"]["n_examples"] == 40 and e["arms"]["full"]["steps"] == 2
    assert e["arms"]["keepall"]["tokens_seen"] > 0
    ifd_stages = {s["stage"]: s for s in e["arms"]["ifd"]["stages"]}
    assert ifd_stages["budget"]["kept"] == 4
    per_kind = e["arms"]["reflect"]["rule_by_refinement"]
    assert (
        set(per_kind) == {"inside", "outside"}
        and sum(sum(v["choices"].values()) for v in per_kind.values()) == 4
    )
    assert "2402.10110" in e["source"] and "2308.12032" in e["source"]
    # the random 10% is one draw per seed, shared: its files are the reflection's originals
    subsets = sorted(p.name for p in (out / "data" / "subsets").iterdir())
    assert "random-n4-s0.jsonl" in subsets and "c7-keepall-n4-s1.jsonl" in subsets
    assert "c7-inside-n4-s0.jsonl" not in subsets  # full size only
    assert np.isfinite(e["effect"])
