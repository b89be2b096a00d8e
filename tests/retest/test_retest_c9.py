"""C9 (unattested hypothesis): the built-in judgement cases against a naive reference, and a tiny run."""

from __future__ import annotations

import json
import re

import pytest

from reasonsift.data.io import read_examples
from reasonsift.evaluate.verify import verify_all
from reasonsift.retest.claims import c9
from reasonsift.retest.runner import RetestConfig, main
from reasonsift.retest.verdict import VERDICTS

KEYS = {"verdict", "rule", "effect", "ci_low", "ci_high", "seeds", "arms", "source", "attribution_note"}


def naive_label(question: str) -> str:
    """Evaluate ``x op y = claim?`` by hand: yes when the claim is the step's value."""
    m = re.fullmatch(r"(-?\d+)([+-])(\d+)=(-?\d+)\?", question)
    assert m, question
    x, op, y, claim = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
    return "yes" if claim == (x + y if op == "+" else x - y) else "no"


@pytest.mark.parametrize(("op", "split"), [("+", "train"), ("-", "test"), ("+", "test")])
def test_judgement_cases_are_labelled_right_and_balanced(op, split):
    exs = c9.judgement_examples(op, 40, split=split, seed=3)
    assert len(exs) == 40 and len({e.id for e in exs}) == 40
    assert all(e.problems() == [] and f"{op}" in e.question.lstrip("-") for e in exs)
    assert [naive_label(e.question) for e in exs] == [e.answer for e in exs]
    assert [e.answer for e in exs].count("yes") == 20
    slips = [e.meta["slip"] for e in exs if e.answer == "no"]
    assert slips == [c9.SLIPS[i % 4] for i in range(20)]  # each kind in turn
    assert all(e.meta["claim"] != e.meta["right"] for e in exs if e.answer == "no")
    assert c9.judgement_examples(op, 40, split=split, seed=3) == exs  # reproducible


def test_slips_and_the_criterion_form():
    import random

    rng = random.Random(0)
    assert c9.slip(20, "+", 30, 50, "operation", rng) == -10
    assert c9.slip(20, "-", 30, -10, "operation", rng) == 50
    assert c9.slip(5, "-", 5, 0, "sign", rng) == 1  # -0 would be right: moved off
    assert (
        abs(c9.slip(1, "+", 2, 3, "tens", rng) - 3) == 10
        and abs(c9.slip(1, "+", 2, 3, "units", rng) - 3) == 1
    )
    with pytest.raises(ValueError, match="unknown slip"):
        c9.slip(1, "+", 2, 3, "digits", rng)
    ex = c9.judgement_examples("-", 2, split="test")[1]
    crit = c9.with_criterion(ex, c9.CRITERION)
    assert (
        crit.question == c9.CRITERION + "\n" + ex.question and crit.answer == ex.answer and crit.id != ex.id
    )
    assert ex.question.startswith(tuple("-0123456789"))  # the original is untouched


def test_the_exact_verifier_judges_yes_and_no():
    yes, no = c9.judgement_examples("+", 2, split="test")
    outs = verify_all(["yes", "<think>x</think>no", "no", " Yes. ", "maybe", ""], [yes, yes, no, yes, no, no],
                      kind="exact")  # fmt: skip
    assert [o.state for o in outs] == ["correct", "wrong", "correct", "correct", "wrong", "no_answer"]


def test_the_guard_makes_a_floor_or_ceiling_inconclusive():
    import numpy as np

    rng = np.random.default_rng(0)
    coin = (rng.random((200, 3)) < 0.5).astype(float)
    good = (rng.random((200, 3)) < 0.9).astype(float)
    held = {"labels": coin, "criterion": good}
    eff, why = c9.guarded_effect(held, {"labels": coin, "criterion": coin})  # nobody learned: floor
    assert np.isnan(eff["diff"]) and why.startswith("Floor")
    assert c9.SPEC.rule.decide(eff["diff"], eff["ci_low"], eff["ci_high"]) == "inconclusive at this scale"
    eff, why = c9.guarded_effect(held, {"labels": coin, "criterion": good})  # one arm learned: it decides
    assert why == "" and eff["diff"] == pytest.approx(good.mean() - coin.mean()) and eff["ci_low"] > 0.05
    assert c9.SPEC.rule.decide(eff["diff"], eff["ci_low"], eff["ci_high"]) == "supported"
    eff, why = c9.guarded_effect({"labels": good, "criterion": coin}, None)  # worse: not supported
    assert c9.SPEC.rule.decide(eff["diff"], eff["ci_low"], eff["ci_high"]) == "not supported"
    ones = np.ones((200, 3))
    eff, why = c9.guarded_effect({"labels": ones, "criterion": ones}, {"labels": ones, "criterion": ones})
    assert np.isnan(eff["diff"]) and why.startswith("Ceiling")


def test_c9_tiny_run(tmp_path):
    out = tmp_path / "rt"
    main(RetestConfig(claim="C9", quick=True, seeds=2, steps=2, n_test=8, out_dir=str(out)))
    e = json.loads((out / "verdicts.json").read_text())["C9"]
    assert set(e) >= KEYS and e["verdict"] in VERDICTS and e["seeds"] == [0, 1]
    assert set(e["arms"]) == {"base", "labels", "criterion"} and e["n_questions"] == 8
    assert e["rule_a"] == "criterion" and e["rule_b"] == "labels"
    for arm in e["arms"].values():
        assert len(arm["metric"]["per_seed"]) == 2
        assert set(arm["metrics"]) == {"in-distribution accuracy"}
    lab, crit = e["arms"]["labels"], e["arms"]["criterion"]
    raw = next(c for c in e["comparisons"] if (c["a"], c["b"]) == ("criterion", "labels"))
    assert raw["diff"] == pytest.approx(crit["metric"]["mean"] - lab["metric"]["mean"])
    if e["effect"] is None:  # the floor/ceiling guard: undefined effect, inconclusive
        assert e["verdict"] == "inconclusive at this scale" and any(
            n.startswith(("Floor", "Ceiling")) for n in e["notes"]
        )
    else:
        assert e["effect"] == pytest.approx(raw["diff"])
    assert crit["tokens_seen"] > lab["tokens_seen"]  # the criterion lengthens every prompt
    assert "2403.16084" in e["source"] and "Unattested" in e["attribution_note"]
    assert "hypothesis" in e["title"] and "hypothesis" in e["caveat"] and "hypothesis" in e["notes"][0]
    # the two arms trained on the same cases and labels; only the prompt differs
    files = sorted((out / "data").glob("judge-add-*.jsonl"))
    crit_ex, lab_ex = (read_examples(f).examples for f in files)
    assert [e.answer for e in crit_ex] == [e.answer for e in lab_ex]
    assert all(c.question == c9.CRITERION + "\n" + x.question for c, x in zip(crit_ex, lab_ex, strict=True))
