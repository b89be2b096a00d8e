import doctest
from collections import Counter

import pytest

from reasonsift.data.example import Example
from reasonsift.data.render import completion_text
from reasonsift.evaluate import mathverify, verify
from reasonsift.evaluate.verify import resolve_kind, task_name, verifier_for, verify_all, verify_exact
from reasonsift.tasks import get_task, task_names
from reasonsift.tasks.base import verify_letter
from reasonsift.tasks.outcome import STATES


def test_doctests():
    assert doctest.testmod(verify).failed == 0


@pytest.mark.parametrize("fmt", ["free_form", "multiple_choice"])
@pytest.mark.parametrize("name", task_names())
def test_every_builtin_reference_completion_verifies_correct(name, fmt):
    task = get_task(name)
    exs = [task.example(i, split=s, format=fmt) for s in ("train", "ood") for i in range(5)]
    outs = verify_all([completion_text(e) for e in exs], exs)
    assert [o.state for o in outs] == ["correct"] * len(exs), [o.detail for o in outs]
    assert all(resolve_kind(e) == "task" for e in exs)


def test_gym_items_resolve_to_their_task():
    ex = Example(
        "g",
        "q",
        "4",
        source="reasoning_gym:basic_arithmetic:1:0",
        meta={"source_dataset": "basic_arithmetic"},
    )
    assert task_name(ex) == "gym:basic_arithmetic" and resolve_kind(ex) == "task"
    pytest.importorskip("reasoning_gym")
    gym_ex = get_task("gym:basic_arithmetic").example(0)
    outs = verify_all([f"<think>t</think>{gym_ex.answer}", "<think>t</think>not a number"], [gym_ex, gym_ex])
    assert [o.state for o in outs] == ["correct", "wrong"]


def test_kinds_and_auto_choice(monkeypatch):
    plain = Example("p", "What is 1/2?", "0.5")
    mc = Example("m", "Pick", "B", choices=["1", "2"], format="multiple_choice")
    assert resolve_kind(mc) == "mc" and verifier_for(mc) is verify_letter
    monkeypatch.setattr(mathverify, "HAVE_MATH_VERIFY", False)
    assert resolve_kind(plain) == "exact"
    out = verifier_for(plain, kind="math")("<think>x</think>0.50", plain)
    assert out.state == "correct" and "math-verify is not installed" in out.detail
    assert verifier_for(plain, kind="exact") is verify_exact
    monkeypatch.setattr(mathverify, "HAVE_MATH_VERIFY", True)
    assert resolve_kind(plain) == "math"
    with pytest.raises(ValueError, match="kind"):
        verifier_for(plain, kind="nope")
    with pytest.raises(ValueError, match="task"):
        verifier_for(plain, kind="task")


def test_state_counts_and_failures_are_never_wrong(monkeypatch):
    monkeypatch.setattr(mathverify, "HAVE_MATH_VERIFY", True)
    monkeypatch.setattr(mathverify, "CHECK", _hanging_exact)
    arith = get_task("arith").example(0)

    def boom(completion, example):
        raise RuntimeError("verifier bug")

    monkeypatch.setitem(verify.__dict__, "verify_letter", boom)  # the mc verifier crashes
    mc = Example("m", "Pick", "B", choices=["1", "2"], format="multiple_choice")
    unknown = Example("u", "q", "1", meta={"task": "no-such-task"})
    plain = Example("p", "q", "7")
    hang = Example("h", "q", "hang")
    rows = [
        (completion_text(arith), arith),  # correct (task)
        ("<think>x</think>12345678", arith),  # wrong (task)
        ("<think>never closed", arith),  # no_answer
        ("<think>x</think>B", mc),  # error: the verifier raised
        ("<think>x</think>1", unknown),  # error: no verifier for this task
        ("<think>x</think>7", plain),  # correct (math pool)
        ("<think>x</think>8", plain),  # wrong (math pool)
        ("<think>x</think>1", hang),  # timeout (math pool)
    ]
    outs = verify_all([c for c, _ in rows], [e for _, e in rows], timeout=1.0)
    assert [o.state for o in outs] == [
        "correct",
        "wrong",
        "no_answer",
        "error",
        "error",
        "correct",
        "wrong",
        "timeout",
    ]
    counts = Counter(o.state for o in outs)
    assert {s: counts[s] for s in STATES} == {
        "correct": 2,
        "wrong": 2,
        "no_answer": 1,
        "timeout": 1,
        "error": 2,
    }
    assert "verifier bug" in outs[3].detail and "no-such-task" in outs[4].detail


@pytest.mark.skipif(not mathverify.HAVE_MATH_VERIFY, reason="math-verify not installed")
def test_plain_math_data_goes_through_math_verify():
    exs = [Example("a", "Half of 1?", "0.5"), Example("b", "Half of 1?", "0.5")]
    outs = verify_all(
        [r"<think>1/2</think>\boxed{\frac{1}{2}}", r"<think>x</think>\boxed{2}"], exs, timeout=30
    )
    assert [(o.state, o.detail) for o in outs] == [("correct", "math-verify"), ("wrong", "math-verify")]


def test_verify_all_checks_lengths():
    with pytest.raises(ValueError, match="examples"):
        verify_all(["a"], [])


def _hanging_exact(completion, gold):
    import time

    if gold == "hang":
        time.sleep(600)
    return mathverify.exact_check(completion, gold)
