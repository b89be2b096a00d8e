"""Trace length statistics against plain references."""

import random

import numpy as np
import pytest

from reasonsift.data.example import Example
from reasonsift.data.stats import counts, length_summary, load_tokenizer, percentile, token_counter


def test_length_summary_hand_values():
    s = length_summary([10, 0, 5, 5, 30])
    # sorted 0 5 5 10 30: p50 = 5; p90 at rank 3.6 -> 10 + 0.6 * 20 = 22
    assert s == {"min": 0, "p50": 5, "p90": pytest.approx(22.0), "max": 30, "mean": 10}
    assert length_summary([]) == {"min": 0, "p50": 0, "p90": 0, "max": 0, "mean": 0}


def test_percentile_matches_numpy_linear():
    rng = random.Random(0)
    xs = sorted(rng.randint(0, 1000) for _ in range(101))
    for q in (0.0, 0.1, 0.5, 0.9, 0.99, 1.0):
        assert percentile(xs, q) == pytest.approx(np.percentile(xs, q * 100))
    with pytest.raises(ValueError, match="q: expected"):
        percentile(xs, 1.5)


def test_counts_most_common_first():
    exs = [Example(id=str(i), question="q", answer="a", domain=d) for i, d in enumerate("bbaac")]
    exs.append(Example(id="x", question="q", answer="a"))
    assert list(counts(exs, lambda e: e.domain).items()) == [("a", 2), ("b", 2), ("(none)", 1), ("c", 1)]


def test_builtin_tokenizer_counts_characters_and_think_as_one():
    count = token_counter(load_tokenizer("builtin"))
    assert count(["12+3=15", "", "<think>ab</think>"]) == [7, 0, 4]


def test_tokenizer_spec_must_be_builtin_or_a_directory(tmp_path):
    with pytest.raises(ValueError, match="tokenizer: expected 'builtin'"):
        load_tokenizer(str(tmp_path / "missing"))


def test_local_tokenizer_directory(tmp_path):
    load_tokenizer("builtin").save_pretrained(tmp_path / "tok")
    assert token_counter(load_tokenizer(str(tmp_path / "tok")))(["abc"]) == [3]
