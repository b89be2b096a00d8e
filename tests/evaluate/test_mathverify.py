import time

import pytest

from reasonsift.evaluate import mathverify
from reasonsift.evaluate.mathverify import exact_check, normalize, run_checks, verify_math
from reasonsift.tasks.outcome import CORRECT, ERROR, NO_ANSWER, TIMEOUT, WRONG

needs_mv = pytest.mark.skipif(not mathverify.HAVE_MATH_VERIFY, reason="math-verify not installed")


def flaky_check(completion, gold):
    """A check that hangs or raises on request; module level, so the workers can unpickle it."""
    if gold == "hang":
        time.sleep(600)
    if gold == "boom":
        raise ValueError("boom")
    if gold == "die":
        import os

        os._exit(3)
    return exact_check(completion, gold)


@needs_mv
def test_math_verify_correct_wrong_no_answer():
    outs = verify_math(
        [r"<think>1/2</think>\boxed{\frac{1}{2}}", r"\boxed{3}", "<think>never closed", "", "$\\frac{3}{4}$"],
        ["0.5", "4", "1", "1", "0.75"],
        timeout=30,
    )
    assert [o.state for o in outs] == [CORRECT, WRONG, NO_ANSWER, NO_ANSWER, CORRECT]
    assert outs[0].score == 1.0 and outs[0].extracted == r"\frac{1}{2}"
    assert outs[1].score == 0.0


def test_hang_is_timeout_error_is_error_and_the_pool_survives(monkeypatch):
    monkeypatch.setattr(mathverify, "CHECK", flaky_check)
    monkeypatch.setattr(mathverify, "HAVE_MATH_VERIFY", True)  # the pool path even without math-verify
    completions = ["1", "x", "2", "y", "3", "z", "4"]
    golds = ["1", "hang", "2", "boom", "3", "die", "5"]
    t0 = time.monotonic()
    outs = verify_math(completions, golds, timeout=1.0, workers=2)
    assert time.monotonic() - t0 < 60  # the hang is killed at its deadline, not waited for
    assert [o.state for o in outs] == [CORRECT, TIMEOUT, CORRECT, ERROR, CORRECT, ERROR, WRONG]
    assert "exceeded 1 s" in outs[1].detail
    assert "ValueError: boom" in outs[3].detail
    assert "died" in outs[5].detail
    assert all(o.score == 0.0 for o in outs if o.state in (TIMEOUT, ERROR))  # never counted as correct


def test_run_checks_validates_arguments():
    with pytest.raises(ValueError, match="golds"):
        run_checks(exact_check, ["a"], [], timeout=1)
    with pytest.raises(ValueError, match="timeout"):
        run_checks(exact_check, ["a"], ["a"], timeout=0)
    with pytest.raises(ValueError, match="workers"):
        run_checks(exact_check, ["a"], ["a"], workers=0)
    assert run_checks(exact_check, [], []) == []


def test_without_math_verify_falls_back_to_exact_with_a_note(monkeypatch):
    monkeypatch.setattr(mathverify, "HAVE_MATH_VERIFY", False)
    outs = verify_math(["<think>a</think>1,000", "<think>a</think>7", "<think>"], ["1000", "8", "1"])
    assert [o.state for o in outs] == [CORRECT, WRONG, NO_ANSWER]
    assert all("math-verify is not installed" in o.detail for o in outs)


def test_normalize():
    assert normalize(" $1,000.0$. ") == normalize("1000")
    assert normalize("Max  is RED.") == "max is red"
    assert normalize("0.50") == normalize(".5")
    assert normalize("nan") == "nan"
