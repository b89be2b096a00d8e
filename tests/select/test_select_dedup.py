"""dedup against a plain reference: exact Jaccard of word 3-gram sets, first-kept in input order."""

import random

import pytest

from reasonsift.select.base import get_stage
from reasonsift.select.dedup import normalize

BASE = "a train leaves the station at noon going sixty miles per hour how far has it gone by three"


def rec(i, q):
    return {"id": i, "question": q, "trace": "", "answer": "x", "meta": {}}


def ref_jaccard(a, b, k=3):
    def sh(t):
        w = " ".join(t.lower().split()).split(" ")
        return {" ".join(w[i : i + k]) for i in range(len(w) - k + 1)}

    x, y = sh(a), sh(b)
    return len(x & y) / len(x | y)


def run(records, **params):
    return get_stage("dedup", **params).run(records, random.Random(0))


def test_normalize_case_and_whitespace():
    assert normalize("  What  IS\n\t2+2? ") == "what is 2+2?"


def test_exact_near_and_far():
    near = BASE.replace("by three", "by four")  # one word changed at the end
    far = BASE.replace("sixty miles per hour", "a speed we do not know")
    records = [
        rec("a", BASE),
        rec("b", BASE.upper().replace(" ", "  ")),
        rec("c", near),
        rec("d", far),
        rec("e", "an unrelated question about a maze"),
    ]
    assert ref_jaccard(BASE, near) >= 0.8 > ref_jaccard(BASE, far)
    ds = run(records, threshold=0.8)
    assert [d.keep for d in ds] == [True, False, False, True, True]
    assert ds[1].reason == "exact duplicate question of a" and ds[1].columns["dup_kind"] == "exact"
    assert "near duplicate question of a" in ds[2].reason
    assert ds[2].columns["dup_jaccard"] == pytest.approx(ref_jaccard(BASE, near))
    assert all(d.reason for d in ds)


def test_keeps_first_in_input_order():
    near = BASE.replace("by three", "by four")
    ds = run([rec("z", near), rec("a", BASE)])
    assert [d.keep for d in ds] == [True, False] and ds[1].columns["dup_of"] == "z"


def test_threshold_decides_against_reference():
    # Many pairs of graded similarity: the stage drops exactly the pairs whose true Jaccard >= threshold.
    words = BASE.split()
    rng = random.Random(3)
    for t in range(12):
        q = list(words)
        for _ in range(t % 6):
            q[rng.randrange(len(q))] = f"w{rng.randrange(1000)}"
        other = " ".join(q)
        expect_dup = ref_jaccard(BASE, other) >= 0.6
        ds = run([rec("a", BASE), rec("b", other)], threshold=0.6)
        assert ds[1].keep is (not expect_dup), (other, ref_jaccard(BASE, other))


@pytest.mark.parametrize(
    "bad", [{"threshold": 0}, {"threshold": 1.5}, {"num_perm": 1}, {"shingle": 0}, {"x": 1}]
)
def test_invalid_params_name_the_param(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        get_stage("dedup", **bad)
