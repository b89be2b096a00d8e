"""difficulty against the plain rules of s1, LIMO and a band, on hand-made eval columns."""

import random

import pytest

from reasonsift.select.base import get_stage

RATES = [0.0, 1 / 32, 3 / 32, 4 / 32, 0.5, 31 / 32, 1.0, None]


def recs():
    out = []
    for i, s in enumerate(RATES):
        c = None if s is None else round(s * 32)
        out.append({"id": f"q{i}", "solve_rate": s, "correct": c, "n": None if s is None else 32})
    return out


def keep(**params):
    return [d.keep for d in get_stage("difficulty", **params).run(recs(), random.Random(0))]


def test_s1_drops_what_the_student_solves():
    assert keep() == [s is not None and s < 1.0 for s in RATES]
    assert keep(max_solve_rate=0.5) == [s is not None and s < 0.5 for s in RATES]


def test_limo_keeps_1_to_3_of_32():
    assert keep(mode="limo") == [s is not None and 1 <= round(s * 32) <= 3 for s in RATES]
    assert get_stage("difficulty", mode="limo").needs == ("correct", "n")


def test_band():
    assert keep(mode="band", lo=0.1, hi=0.6) == [s is not None and 0.1 <= s <= 0.6 for s in RATES]


def test_reasons_and_columns():
    ds = get_stage("difficulty").run(recs(), random.Random(0))
    assert ds[6].reason == "solve rate 1.00 >= 1" and ds[6].columns == {"difficulty_solve_rate": 1.0}
    assert "not in the eval run" in ds[7].reason
    d = get_stage("difficulty", mode="limo").run(recs(), random.Random(0))[2]
    assert d.reason == "correct 3/32 in [1, 3]" and d.columns["difficulty_correct"] == 3


@pytest.mark.parametrize(
    "bad,param",
    [
        ({"mode": "hard"}, "mode"),
        ({"max_solve_rate": 2}, "max_solve_rate"),
        ({"lo": 0.2}, "lo"),  # band param in s1 mode
        ({"mode": "limo", "min_correct": 4}, "min_correct"),
        ({"mode": "band", "lo": 0.8, "hi": 0.2}, "lo"),
    ],
)
def test_invalid_params_name_the_param(bad, param):
    with pytest.raises(ValueError, match=param):
        get_stage("difficulty", **bad)
