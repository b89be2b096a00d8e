"""forking against a plain reference: bounds, then the best ceil(top_fraction * n), ties by id."""

import math
import random

import pytest

from reasonsift.select.base import get_stage
from reasonsift.select.forking import COLUMNS

VALS = {"a": 0.05, "b": 0.30, "c": 0.22, "d": None, "e": 0.22, "f": 0.10, "g": 0.41}


def recs(col):
    return [{"id": k, col: v} for k, v in VALS.items()]


def reference(lo=None, hi=None, frac=None, descending=True):
    ok = [(k, v) for k, v in VALS.items() if v is not None]
    ok = [(k, v) for k, v in ok if (lo is None or v >= lo) and (hi is None or v <= hi)]
    ok.sort(key=lambda kv: ((-kv[1] if descending else kv[1]), kv[0]))
    n = len(ok) if frac is None else math.ceil(frac * len(ok))
    return {k for k, _ in ok[:n]}


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize(
    "params",
    [{}, {"min": 0.1}, {"max": 0.3}, {"min": 0.1, "max": 0.3, "top_fraction": 0.5}, {"top_fraction": 0.3}],
)
@pytest.mark.parametrize("descending", [True, False])
def test_matches_reference(column, params, descending):
    stage = get_stage("forking", column=column, descending=descending, **params)
    assert stage.needs == (column,)
    ds = stage.run(recs(column), random.Random(0))
    kept = {r["id"] for r, d in zip(recs(column), ds, strict=True) if d.keep}
    lo, hi, frac = params.get("min"), params.get("max"), params.get("top_fraction")
    assert kept == reference(lo, hi, frac, descending)
    assert all(d.reason for d in ds)


def test_ranks_and_reasons():
    ds = dict(
        zip(
            VALS,
            get_stage("forking", min=0.1).run(recs("forking_share_trace"), random.Random(0)),
            strict=True,
        )
    )
    assert ds["a"].reason == "forking_share_trace 0.05 < min 0.1" and not ds["a"].keep
    assert ds["d"].reason == "forking_share_trace null (not computed)"
    assert ds["g"].columns["forking_share_trace_rank"] == 1
    assert (
        ds["c"].columns["forking_share_trace_rank"] == 3 and ds["e"].columns["forking_share_trace_rank"] == 4
    )


@pytest.mark.parametrize(
    "bad,param",
    [
        ({"column": "H_mean"}, "column"),
        ({"min": 2, "max": 1}, "min"),
        ({"top_fraction": 1.5}, "top_fraction"),
    ],
)
def test_invalid_params_name_the_param(bad, param):
    with pytest.raises(ValueError, match=param):
        get_stage("forking", **bad)
