"""Each metric against a plain reference: brute force over subsets, exact fractions, hand-computed values."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest

from reasonsift.evaluate.metrics import (
    bootstrap_ci,
    cohens_d,
    maj_at_k,
    paired_bootstrap,
    pass_at_k,
    question_record,
    solve_rate,
    summarize,
)
from reasonsift.tasks.outcome import STATES, Outcome


def brute_pass_at_k(n: int, c: int, k: int) -> Fraction:
    """Share of all k-subsets of n samples (the first c correct) that hold at least one correct sample."""
    subsets = list(itertools.combinations(range(n), k))
    return Fraction(sum(any(i < c for i in s) for s in subsets), len(subsets))


@pytest.mark.parametrize("n", range(1, 9))
def test_pass_at_k_equals_brute_force_over_subsets(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(float(brute_pass_at_k(n, c, k)), abs=1e-12), (n, c, k)


@pytest.mark.parametrize("n", [100, 200, 1000])
def test_pass_at_k_large_n_equals_exact_fractions(n):
    for c in [0, 1, 2, 7, n // 3, n // 2, n - 10, n - 1, n]:
        for k in [1, 2, 5, 8, 16, 32, 64]:
            exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
            assert pass_at_k(n, c, k) == pytest.approx(float(exact), rel=1e-12, abs=1e-15), (n, c, k)


def test_pass_at_k_stable_where_the_naive_float_ratio_overflows():
    n, c, k = 2000, 3, 500
    with pytest.raises(OverflowError):
        float(math.comb(n - c, k)) / float(math.comb(n, k))
    exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
    assert pass_at_k(n, c, k) == pytest.approx(float(exact), rel=1e-12)


def test_pass_at_k_edges_and_refusals():
    assert pass_at_k(5, 0, 3) == 0.0
    assert pass_at_k(5, 3, 3) == 1.0  # n - c = 2 < k: every 3-subset holds a correct sample
    assert pass_at_k(1, 1, 1) == 1.0
    assert pass_at_k(4, 1, 1) == 0.25  # pass@1 is the solve rate
    with pytest.raises(ValueError, match="^k: pass@5"):
        pass_at_k(4, 1, 5)
    with pytest.raises(ValueError, match="^k:"):
        pass_at_k(4, 1, 0)
    with pytest.raises(ValueError, match="^c:"):
        pass_at_k(4, 5, 1)


def test_pass_at_1_is_solve_rate():
    for n in range(1, 20):
        for c in range(n + 1):
            assert pass_at_k(n, c, 1) == pytest.approx(solve_rate(c, n), abs=1e-12)
    with pytest.raises(ValueError, match="^n:"):
        solve_rate(0, 0)


def ref_maj(answers, correct, k):
    """Plain reference: count, take the highest count, break ties by first position."""
    first = {}
    for i, a in enumerate(answers[:k]):
        if a is not None and a not in first:
            first[a] = i
    if not first:
        return 0.0
    counts = Counter(a for a in answers[:k] if a is not None)
    win = min(first, key=lambda a: (-counts[a], first[a]))
    return float(correct[first[win]])


def test_maj_at_k_hand_cases():
    assert maj_at_k(["5", "5", "7"], [True, True, False], 3) == 1.0
    assert maj_at_k(["7", "5", "5"], [False, True, True], 3) == 1.0
    assert maj_at_k(["7", "5", "5"], [False, True, True], 2) == 0.0  # tie 7 vs 5 in the first two: 7 first
    assert maj_at_k([None, None, "5"], [False, False, True], 3) == 1.0  # None never wins, even with 2 votes
    assert maj_at_k([None, None], [False, False], 2) == 0.0
    with pytest.raises(ValueError, match="^k:"):
        maj_at_k(["1"], [True], 2)
    with pytest.raises(ValueError, match="^correct:"):
        maj_at_k(["1", "2"], [True], 1)


def test_maj_at_k_equals_reference_on_random_votes():
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(1, 9))
        answers = [None if x == 3 else str(x) for x in rng.integers(0, 4, n)]
        correct = [a == "1" for a in answers]
        for k in range(1, n + 1):
            assert maj_at_k(answers, correct, k) == ref_maj(answers, correct, k)


def ref_bootstrap(values, stat, n_boot, alpha, seed):
    """Loop version with the same generator calls."""
    x = np.asarray(values, dtype=float)
    idx = np.random.default_rng(seed).integers(0, len(x), size=(n_boot, len(x)))
    reps = np.array([stat(x[row]) for row in idx])
    return tuple(np.quantile(reps, [alpha / 2, 1 - alpha / 2]))


def test_bootstrap_ci_matches_loop_reference_and_is_seeded():
    v = np.random.default_rng(1).random(37)
    for stat in (np.mean, np.median):
        got = bootstrap_ci(v, stat, n_boot=500, alpha=0.1, seed=3)
        assert got == pytest.approx(ref_bootstrap(v, stat, 500, 0.1, 3), abs=1e-12)
    assert bootstrap_ci(v, seed=3) == bootstrap_ci(v, seed=3)
    assert bootstrap_ci(v, seed=3) != bootstrap_ci(v, seed=4)
    # a statistic without an axis argument takes the per-replicate path and gives the same numbers
    assert bootstrap_ci(v, lambda r: float(np.mean(r)), seed=3) == pytest.approx(bootstrap_ci(v, seed=3))


def test_bootstrap_ci_covers_the_mean_and_shrinks_with_n():
    rng = np.random.default_rng(0)
    small, big = rng.random(30) < 0.5, rng.random(3000) < 0.5
    lo, hi = bootstrap_ci(small)
    assert lo <= small.mean() <= hi
    lo2, hi2 = bootstrap_ci(big)
    assert lo2 <= big.mean() <= hi2 and (hi2 - lo2) < (hi - lo) / 5
    # normal approximation of a proportion's 95% CI: half-width ~ 1.96 sqrt(p(1-p)/n)
    assert (hi2 - lo2) / 2 == pytest.approx(1.96 * math.sqrt(big.mean() * (1 - big.mean()) / 3000), rel=0.1)


def test_bootstrap_ci_edges():
    assert bootstrap_ci(np.array([0.7])) == (0.7, 0.7)
    assert all(math.isnan(x) for x in bootstrap_ci(np.array([])))
    with pytest.raises(ValueError, match="^n_boot:"):
        bootstrap_ci(np.ones(3), n_boot=0)
    with pytest.raises(ValueError, match="^alpha:"):
        bootstrap_ci(np.ones(3), alpha=1.5)


def test_bootstrap_ci_clusters_rows_together():
    """A [questions, seeds] array: rows are resampled whole (cluster bootstrap), same as per-row means."""
    x = np.random.default_rng(2).random((25, 3))
    assert bootstrap_ci(x, seed=5) == pytest.approx(bootstrap_ci(x.mean(1), seed=5), abs=1e-12)


def test_paired_bootstrap_against_loop_and_narrower_than_unpaired():
    rng = np.random.default_rng(4)
    hard = rng.random(200)  # per-question difficulty shared by both runs
    a = (rng.random(200) > hard * 0.9).astype(float)
    b = (rng.random(200) > hard).astype(float)
    got = paired_bootstrap(a, b, n_boot=400, seed=7)
    assert got["diff"] == pytest.approx(a.mean() - b.mean())
    idx = np.random.default_rng(7).integers(0, 200, size=(400, 200))
    reps = np.array([a[r].mean() - b[r].mean() for r in idx])
    assert (got["ci_low"], got["ci_high"]) == pytest.approx(tuple(np.quantile(reps, [0.025, 0.975])))
    # unpaired: independent resamples of each run
    ia = np.random.default_rng(8).integers(0, 200, size=(400, 200))
    unpaired = np.quantile(a[ia].mean(1) - b[idx].mean(1), [0.025, 0.975])
    assert got["ci_high"] - got["ci_low"] < unpaired[1] - unpaired[0]
    same = paired_bootstrap(a, a)
    assert same == {"diff": 0.0, "ci_low": 0.0, "ci_high": 0.0}
    with pytest.raises(ValueError, match="^b:"):
        paired_bootstrap(a, b[:-1])


def test_cohens_d_against_hand_formula():
    a, b = [2.0, 4.0, 6.0, 9.0], [1.0, 2.0, 2.0]
    ma, mb = sum(a) / 4, sum(b) / 3
    va = sum((x - ma) ** 2 for x in a) / 3
    vb = sum((x - mb) ** 2 for x in b) / 2
    sp = math.sqrt((3 * va + 2 * vb) / 5)
    assert cohens_d(a, b) == pytest.approx((ma - mb) / sp)
    assert cohens_d(b, a) == pytest.approx(-(ma - mb) / sp)
    assert math.isnan(cohens_d([1, 1], [1, 1]))
    with pytest.raises(ValueError, match="^a, b:"):
        cohens_d([1], [2])


def _q(qid, task, split, outcomes):
    return question_record(qid, outcomes, task=task, split=split, domain="math")


C, W = Outcome.judged(True, "4"), Outcome.judged(False, "5")
T, NA = Outcome("timeout", detail="slow"), Outcome("no_answer", extracted="")


def test_question_record_fields():
    q = _q("q1", "arith", "test", [C, W, T, NA])
    assert q == {
        "id": "q1", "task": "arith", "split": "test", "domain": "math", "format": "free_form", "n": 4,
        "correct": 1, "answers": ["4", "5", None, None], "correct_list": [True, False, False, False],
        "states": ["correct", "wrong", "timeout", "no_answer"],
    }  # fmt: skip


def test_summarize_sampled_run_groups_and_reference_values():
    qs = [
        _q("a", "arith", "test", [C, W, W, W]),
        _q("b", "arith", "test", [W, W, C, C]),
        _q("c", "arith", "ood", [T, W, W, W]),
        _q("d", "maze", "test", [C, C, C, C]),
    ]
    out = summarize(qs, ks=(1, 2, 4), n_boot=200)
    assert list(out) == ["all", "arith:ood", "arith:test", "maze:test"]
    al = out["all"]
    assert al["n_questions"] == 4 and al["n_samples"] == 16
    assert al["states"] == {"correct": 7, "wrong": 8, "no_answer": 0, "timeout": 1, "error": 0}
    assert set(al["states"]) == set(STATES)
    ref2 = np.mean([float(brute_pass_at_k(4, c, 2)) for c in (1, 2, 0, 4)])
    assert al["pass@2"]["value"] == pytest.approx(ref2)
    assert al["pass@1"]["value"] == pytest.approx(7 / 16) == al["solve_rate"]["value"]
    assert al["pass@4"]["value"] == pytest.approx(3 / 4)
    # maj@4: a -> "5" wins (3 votes, wrong); b -> tie 5:2 vs 4:2, 5 first -> wrong; c -> 5 wrong; d -> right
    assert al["maj@4"]["value"] == pytest.approx(1 / 4)
    for m in ("pass@1", "pass@2", "pass@4", "maj@1", "maj@2", "maj@4", "solve_rate"):
        assert al[m]["ci_low"] <= al[m]["value"] <= al[m]["ci_high"]
    at = out["arith:test"]
    assert at["task"] == "arith" and at["split"] == "test" and at["n_questions"] == 2
    assert at["pass@4"] == {"value": 1.0, "ci_low": 1.0, "ci_high": 1.0}
    assert "accuracy" not in al
    with pytest.raises(ValueError, match="^k: pass@8"):
        summarize(qs, ks=(8,))


def test_summarize_greedy_run_reports_accuracy():
    qs = [_q(str(i), "arith", "test", [C if i % 3 == 0 else W]) for i in range(9)]
    qs.append(_q("e", "arith", "ood", [Outcome("error", detail="crash")]))
    out = summarize(qs, n_boot=200)
    assert out["all"]["accuracy"]["value"] == pytest.approx(3 / 10)
    assert out["all"]["states"]["error"] == 1  # counted apart, not as wrong
    assert out["arith:test"]["accuracy"]["value"] == pytest.approx(3 / 9)
    assert "pass@1" not in out["all"] and "maj@1" not in out["all"]
    by_domain = summarize(qs, group_keys=("domain",), n_boot=200)
    assert list(by_domain) == ["all", "math"]


def test_summarize_refuses_malformed_records():
    q = _q("a", "arith", "test", [C, W])
    with pytest.raises(ValueError, match="^states: question 'a'"):
        summarize([{**q, "states": ["correct"]}])
    with pytest.raises(ValueError, match="^correct: question 'a'"):
        summarize([{**q, "correct": 2}])
    with pytest.raises(ValueError, match="^answers: missing"):
        summarize([{k: v for k, v in q.items() if k != "answers"}])
