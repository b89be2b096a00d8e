"""budget against a plain reference: sort by (null last, -score, seeded shuffle of ids), fill first-fit."""

import math
import random

import pytest

from reasonsift.select.base import get_stage
from reasonsift.select.budget import record_tokens

SCORES = [0.9, 0.5, None, 0.5, 0.7, 0.5, 0.1, None]


def recs():
    out = []
    for i, s in enumerate(SCORES):
        r = {"id": f"r{i}", "question": "q" * (4 * (i + 1)), "trace": "", "answer": "", "ifd": s}
        if i % 2:
            r["n_tokens"] = 10 * i
        out.append(r)
    return out


def reference(records, seed, n=None, tokens=None, score="ifd"):
    ids = sorted(r["id"] for r in records)
    random.Random(seed).shuffle(ids)
    tie = {k: p for p, k in enumerate(ids)}

    def key(r):
        v = r.get(score) if score else None
        return (v is None and score is not None, -(v or 0.0), tie[r["id"]])

    kept, used = [], 0
    for r in sorted(records, key=key):
        t = r["n_tokens"] if "n_tokens" in r else math.ceil(len(r["question"]) / 4)
        if (n is None or len(kept) < n) and (tokens is None or used + t <= tokens):
            kept.append(r["id"])
            used += t
    return kept


def kept_ids(records, decisions):
    ranked = sorted(
        (d.columns["budget_rank"], r["id"]) for r, d in zip(records, decisions, strict=True) if d.keep
    )
    return [i for _, i in ranked]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("n,tokens", [(3, None), (None, 25), (4, 40), (20, None)])
def test_matches_reference(seed, n, tokens):
    ds = get_stage("budget", n=n, tokens=tokens, score="ifd").run(recs(), random.Random(seed))
    assert kept_ids(recs(), ds) == reference(recs(), seed, n, tokens)
    assert all(d.reason for d in ds)


def test_no_score_is_a_seeded_shuffle_and_ignores_input_order():
    a = get_stage("budget", n=3, seed=5).run(recs(), random.Random(0))
    rev = list(reversed(recs()))
    b = get_stage("budget", n=3, seed=5).run(rev, random.Random(99))
    assert set(kept_ids(recs(), a)) == set(kept_ids(rev, b)) == set(reference(recs(), 5, n=3, score=None))


def test_tokens_fallback_and_reasons():
    assert record_tokens({"question": "abcde", "trace": "", "answer": "x"}) == 2  # 6 chars / 4, rounded up
    assert record_tokens({"question": "abcde", "n_tokens": 7}) == 7
    ds = get_stage("budget", n=2, score="ifd").run(recs(), random.Random(0))
    assert ds[0].keep and ds[0].reason.startswith("rank 1 of 8 by ifd (high first), ifd 0.9: within budget")
    assert "budget full (2 examples)" in ds[6].reason


def test_lower_is_better():
    ds = get_stage("budget", n=1, score="ifd", descending=False).run(recs(), random.Random(0))
    assert [d.keep for d in ds] == [s == 0.1 for s in SCORES]


@pytest.mark.parametrize("bad,param", [({}, "n or tokens"), ({"n": 0}, "n"), ({"tokens": -1}, "tokens")])
def test_invalid_params_name_the_param(bad, param):
    with pytest.raises(ValueError, match=param):
        get_stage("budget", **bad)
