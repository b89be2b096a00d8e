"""ifd against a plain reference: drop >= max and null, sort, take ceil(fraction * n), ties by id."""

import math
import random

import pytest

from reasonsift.select.base import get_stage

IFD = {"a": 0.5, "b": 0.9, "c": 1.0, "d": 1.3, "e": None, "f": 0.9, "g": 0.2, "h": float("nan"), "i": 0.7}


def recs(col="ifd"):
    return [{"id": k, col: v} for k, v in IFD.items()]


def reference(fraction, max_ifd=1.0, descending=True):
    ok = [(k, v) for k, v in IFD.items() if v is not None and not math.isnan(v) and v < max_ifd]
    ok.sort(key=lambda kv: ((-kv[1] if descending else kv[1]), kv[0]))
    return {k for k, _ in ok[: math.ceil(fraction * len(ok))]}


@pytest.mark.parametrize("fraction", [0.1, 0.4, 0.5, 1.0])
def test_matches_reference(fraction):
    ds = get_stage("ifd", fraction=fraction).run(recs(), random.Random(0))
    assert {r["id"] for r, d in zip(recs(), ds, strict=True) if d.keep} == reference(fraction)


def test_reasons_and_ties():
    ds = dict(zip(IFD, get_stage("ifd", fraction=0.4).run(recs(), random.Random(0)), strict=True))
    assert ds["c"].reason == "ifd 1 >= 1" and ds["d"].reason == "ifd 1.3 >= 1"
    assert ds["e"].reason == "ifd null (not computed)" and not ds["h"].keep
    # b and f tie at 0.9: b ranks first by id; 5 valid, ceil(0.4 * 5) = 2 kept
    assert ds["b"].columns["ifd_rank"] == 1 and ds["f"].columns["ifd_rank"] == 2
    assert ds["b"].keep and ds["f"].keep and not ds["i"].keep
    assert "rank 3 of 5" in ds["i"].reason and "outside the top 0.4" in ds["i"].reason


def test_r_ifd_lower_is_better():
    stage = get_stage("ifd", column="r_ifd", fraction=0.4)
    assert stage.needs == ("r_ifd",)
    ds = stage.run(recs("r_ifd"), random.Random(0))
    assert {r["id"] for r, d in zip(recs(), ds, strict=True) if d.keep} == reference(0.4, descending=False)


@pytest.mark.parametrize(
    "bad,param", [({"column": "x"}, "column"), ({"fraction": 0}, "fraction"), ({"max_ifd": "1"}, "max_ifd")]
)
def test_invalid_params_name_the_param(bad, param):
    with pytest.raises(ValueError, match=param):
        get_stage("ifd", **bad)
