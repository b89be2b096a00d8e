"""Trace corruptions: swap is a derangement within tasks, shuffle keeps the steps, perturb changes numbers."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from reasonsift.data.example import Example
from reasonsift.tasks import get_task
from reasonsift.tasks.corrupt import corrupt, perturb_numbers, shuffle_steps, swap_donors


def _mixed() -> list[Example]:
    return (
        get_task("maze").generate(7, seed=1)
        + get_task("arith").generate(5, seed=1)
        + get_task("logic").generate(1, seed=1)  # alone in its task: must borrow from another task
    )


def test_swap_is_a_derangement_within_tasks():
    exs = _mixed()
    out = corrupt(exs, "swap", seed=4)
    donors = swap_donors(exs, 4)
    assert sorted(donors) == list(range(len(exs)))  # a permutation: every trace is used once
    assert all(d != i for i, d in enumerate(donors))
    for i, (a, b) in enumerate(zip(exs, out, strict=True)):
        assert b.answer == a.answer and b.question == a.question and b.id == a.id
        assert b.trace == exs[donors[i]].trace and b.meta["trace_from"] == exs[donors[i]].id
        assert b.meta["corruption"] == "swap" and b.meta["corruption_seed"] == 4
        if a.meta["task"] != "logic" and exs[donors[i]].meta["task"] != "logic":
            assert exs[donors[i]].meta["task"] == a.meta["task"]
    assert sum(ex.meta["task"] != exs[d].meta["task"] for ex, d in zip(exs, donors, strict=True)) <= 2
    assert "corruption" not in exs[0].meta  # inputs untouched
    assert [e.trace for e in corrupt(exs, "swap", seed=4)] == [e.trace for e in out]
    assert [e.trace for e in corrupt(exs, "swap", seed=5)] != [e.trace for e in out]


def test_swap_of_two_and_of_one():
    exs = get_task("arith").generate(2)
    out = corrupt(exs, "swap")
    assert out[0].trace == exs[1].trace and out[1].trace == exs[0].trace
    with pytest.raises(ValueError, match="at least 2"):
        corrupt(exs[:1], "swap")


def test_shuffle_permutes_steps_with_the_original_separator():
    for name, sep in (("maze", "\n"), ("arith", ";")):
        exs = get_task(name).generate(10, seed=2)
        for a, b in zip(exs, corrupt(exs, "shuffle", seed=1), strict=True):
            assert b.trace != a.trace and Counter(b.trace.split(sep)) == Counter(a.trace.split(sep))
            assert b.meta["corruption_changed"] is True
    single, changed = shuffle_steps("1+2=3", random.Random(0))
    assert (single, changed) == ("1+2=3", False)


def test_shuffled_and_perturbed_traces_fail_validation():
    task = get_task("maze")
    exs = task.generate(20, seed=3)
    for mode in ("shuffle", "perturb"):
        bad = corrupt(exs, mode, seed=0)
        assert all(not task.check_trace(e, e.trace).valid for e in bad), mode


def test_perturb_changes_only_numbers():
    trace = "12+5=17;17-3=14"
    new, changed = perturb_numbers(trace, random.Random(0), 0.5)
    assert changed and new != trace
    assert [c for c in new if not c.isdigit()] == [c for c in trace if not c.isdigit()]
    assert perturb_numbers("no digits here", random.Random(0), 0.5) == ("no digits here", False)
    once, _ = perturb_numbers("a 5 b 6 c 7 d 8", random.Random(1), 1e-9)
    assert (
        sum(x != y for x, y in zip(once.split(), ["a", "5", "b", "6", "c", "7", "d", "8"], strict=True)) == 1
    )


def test_drop_and_bad_options():
    exs = get_task("logic").generate(3)
    assert all(e.trace == "" and e.meta["corruption"] == "drop" for e in corrupt(exs, "drop"))
    with pytest.raises(ValueError, match="mode"):
        corrupt(exs, "scramble")
    with pytest.raises(ValueError, match="rate"):
        corrupt(exs, "perturb", rate=0)
