"""Decision rules: each kind's three outcomes on hand-made intervals."""

from __future__ import annotations

import math

import pytest

from reasonsift.retest.verdict import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, Rule


@pytest.mark.parametrize(
    "kind,diff,lo,hi,want",
    [
        ("better", 0.05, 0.02, 0.08, SUPPORTED),
        ("better", 0.01, 0.005, 0.015, NOT_SUPPORTED),  # above 0 but below the margin: too small to count
        ("better", 0.0, -0.04, 0.04, INCONCLUSIVE),
        ("better", -0.05, -0.08, -0.02, NOT_SUPPORTED),
        ("worse", -0.05, -0.08, -0.02, SUPPORTED),
        ("worse", 0.0, -0.01, 0.01, NOT_SUPPORTED),
        ("worse", -0.03, -0.06, 0.01, INCONCLUSIVE),
        ("matches", 0.0, -0.015, 0.018, SUPPORTED),
        ("matches", 0.06, 0.03, 0.09, NOT_SUPPORTED),
        ("matches", 0.01, -0.01, 0.03, INCONCLUSIVE),
        ("at_least", -0.01, -0.015, 0.02, SUPPORTED),
        ("at_least", -0.06, -0.09, -0.03, NOT_SUPPORTED),
        ("at_least", -0.02, -0.04, 0.0, INCONCLUSIVE),
    ],
)
def test_rule_decides(kind, diff, lo, hi, want):
    assert Rule(kind, "a", "b", "accuracy", 0.02).decide(diff, lo, hi) == want


def test_non_finite_is_inconclusive_and_text_states_the_margin():
    r = Rule("at_least", "forking", "completion", "accuracy", 0.03)
    assert r.decide(math.nan, -0.1, 0.1) == INCONCLUSIVE
    assert "forking is at least as good as completion on accuracy" in r.text() and "-0.03" in r.text()
    with pytest.raises(ValueError, match="^kind:"):
        Rule("bigger", "a", "b", "m", 0.1)
    with pytest.raises(ValueError, match="^margin:"):
        Rule("better", "a", "b", "m", -1)
