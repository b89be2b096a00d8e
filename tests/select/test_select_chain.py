"""Stage "chain": each rule feature on hand-written traces with hand-counted values, and the score by hand."""

import math
import random

import pytest

from reasonsift.select.base import get_stage
from reasonsift.select.chain import chain_features, percentile_ranks

# 19 words; self-verification: "Let me double-check" (once, not also "check"), "Wait", "verify", "Checking".
T1 = "Let me double-check: 3 + 4 = 7. Wait, I should verify the carry. Checking again, it is correct."
# 38 words; exploration: "Suppose", "Alternatively", "another approach", "What if";
# connectives: "Then", "so", "since", "thus", "Then", "therefore".
T2 = (
    "Suppose x = 2. Then y = 4, so x + y = 6. Alternatively, try another approach: since y = 2x, thus 3x = 6. "
    "What if x were 3? Then it fails, therefore x = 2."
)
# 12 words; traps that must not count: "checkpoint", "rechecked", "wait-list"; "Double\ncheck" counts once;
# "THEREFORE" counts (case-insensitive).
T3 = "The checkpoint was rechecked, not a wait-list.\nDouble\ncheck: THEREFORE it holds."


def rec(id_, trace):
    return {"id": id_, "question": "q", "answer": "a", "trace": trace}


@pytest.mark.parametrize(
    ("trace", "expected"),
    [
        (T1, {"elaboration": 19, "self_verification": 4, "exploration": 0, "connective_density": 0.0}),
        (T2, {"elaboration": 38, "self_verification": 0, "exploration": 4, "connective_density": 600 / 38}),
        (T3, {"elaboration": 12, "self_verification": 1, "exploration": 0, "connective_density": 100 / 12}),
        ("", {"elaboration": 0, "self_verification": 0, "exploration": 0, "connective_density": 0.0}),
    ],
)
def test_features_match_hand_counts(trace, expected):
    got = chain_features(trace)
    assert got.keys() == expected.keys()
    for k, v in expected.items():
        assert math.isclose(got[k], v), (k, got[k], v)


def test_percentile_ranks_average_ties():
    assert percentile_ranks([5, 1, 5, 3]) == [(2 + 3) / 2 / 3, 0.0, (2 + 3) / 2 / 3, 1 / 3]
    assert percentile_ranks([7.0]) == [0.5]


def test_score_and_top_fraction_by_hand():
    records = [rec("r1", T1), rec("r2", T2), rec("r3", T3), rec("r4", "")]
    # rank-normalised features (hand): elaboration [2/3, 1, 1/3, 0]; self_verification [1, 1/6, 2/3, 1/6];
    # exploration [1/3, 1, 1/3, 1/3]; connective_density [1/6, 1, 2/3, 1/6]; weights .3 .2 .25 .25
    expected = [0.525, 0.3 + 0.2 / 6 + 0.5, 0.1 + 0.4 / 3 + 0.25 / 3 + 0.5 / 3, 0.2 / 6 + 0.25 / 3 + 0.25 / 6]
    ds = get_stage("chain", fraction=0.5).run(records, random.Random(0))
    for d, e in zip(ds, expected, strict=True):
        assert math.isclose(d.columns["chain_score"], e), (d.columns, e)
    assert [d.keep for d in ds] == [True, True, False, False]
    assert ds[1].columns["exploration"] == 4 and "rank 1 of 4" in ds[1].reason
    # scoring only: everything kept, the columns still reported
    only = get_stage("chain").run(records, random.Random(0))
    assert all(d.keep for d in only) and [d.columns for d in only] == [d.columns for d in ds]
    # one weight: the order is by that feature alone; fraction rounds up (ceil(0.3 * 4) = 2)
    el = get_stage("chain", fraction=0.3, weights={"elaboration": 1}).run(records, random.Random(0))
    assert [d.keep for d in el] == [True, True, False, False]
    assert math.isclose(el[0].columns["chain_score"], 2 / 3)


def test_params_are_validated_by_name():
    for kw, name in [
        ({"fraction": 0}, "fraction"),
        ({"fraction": 1.5}, "fraction"),
        ({"weights": {"length": 1}}, "weights"),
        ({"weights": {"exploration": -1}}, "weights"),
        ({"weights": {"exploration": 0}}, "weights"),
        ({"top": 3}, "top"),
    ]:
        with pytest.raises(ValueError, match=name):
            get_stage("chain", **kw)
