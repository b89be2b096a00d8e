"""The reasoning-gym adapter: provenance, the dataset's own scoring, splits, multiple choice, round trip."""

from __future__ import annotations

import pytest

pytest.importorskip("reasoning_gym")

import reasoning_gym  # noqa: E402

from reasonsift.data.example import Example  # noqa: E402
from reasonsift.tasks import Task, get_task  # noqa: E402
from reasonsift.tasks.outcome import CORRECT, ERROR, NO_ANSWER, TIMEOUT, WRONG, Outcome  # noqa: E402

DATASETS = ["basic_arithmetic", "chain_sum", "word_sorting", "gcd"]


@pytest.mark.parametrize("name", DATASETS)
def test_reference_answers_score_one_and_keep_provenance(name):
    task = get_task(f"gym:{name}")
    assert task is get_task(f"gym:{name}")  # cached: datasets are built once
    assert isinstance(task, Task) and task.name == f"gym:{name}"
    for fmt in ("free_form", "multiple_choice"):
        for ex in task.generate(5, seed=2, format=fmt):
            assert ex.problems() == []
            assert ex.meta["source_dataset"] == name and ex.meta["source_index"] == ex.meta["index"]
            assert task.verify(ex.answer, ex) == Outcome(CORRECT, 1.0, ex.answer)
            assert task.score(ex, ex.answer) == 1.0
            assert task.verify("", ex).state == task.verify("<think>x", ex).state == NO_ANSWER
            # Independently regenerated with reasoning-gym's own API: same item, scored by its own scorer.
            ds = reasoning_gym.create_dataset(name, size=ex.meta["gym_size"], seed=ex.meta["gym_seed"])
            entry = ds[ex.meta["source_index"]]
            assert entry["question"] == ex.question and ds.score_answer(ex.answer_text(), entry) == 1.0
            if fmt == "multiple_choice":
                assert len(set(ex.choices)) == 4
                wrong = [c for i, c in enumerate(ex.choices) if i != ex.answer_index()]
                assert all(ds.score_answer(c, entry) < 1.0 for c in wrong)
                assert all(task.verify_free(c, ex).state == WRONG for c in wrong)
                assert all(task.verify(x, ex).state == WRONG for x in "ABCD" if x != ex.answer)


def test_splits_seeds_and_reproducibility():
    task = get_task("gym:basic_arithmetic")
    a = [e.question for e in task.generate(20, seed=0)]
    assert a == [e.question for e in task.generate(20, seed=0)]
    test = [e.question for e in task.generate(20, seed=0, split="test")]
    other = [e.question for e in task.generate(20, seed=1)]
    assert sum(q in a for q in test) <= 2 and sum(q in a for q in other) <= 2
    assert task.verify("not a number", task.example(0)).state == WRONG


def test_verify_after_a_file_round_trip():
    task = get_task("gym:chain_sum")
    ex = task.example(3, seed=5)
    back = Example.from_dict(ex.to_dict())
    assert task.verify(ex.answer, back).correct and task.verify(ex.answer + "1", back).state == WRONG


def test_bad_options():
    task = get_task("gym:basic_arithmetic")
    with pytest.raises(ValueError, match="split"):
        task.example(0, split="ood")
    with pytest.raises(ValueError, match="difficulty"):
        task.example(0, difficulty=2)
    with pytest.raises(ValueError, match="unknown reasoning-gym dataset"):
        get_task("gym:no_such_dataset")
    assert not task.check_trace(task.example(0), "x").valid


def test_configured_items_verify_through_the_plain_task():
    from reasonsift.tasks.gym import GymTask

    configured = GymTask("chain_sum", min_terms=2, max_terms=2, min_digits=4, max_digits=4)
    ex = Example.from_dict(configured.example(0, seed=1).to_dict())
    assert ex.meta["gym_config"]["min_digits"] == 4
    plain = get_task("gym:chain_sum")
    assert plain.verify(ex.answer, ex).correct and not plain.verify(ex.answer + "0", ex).correct


def _break_scorer(monkeypatch, task, ex, scorer, timeout=0.5):
    monkeypatch.setattr(task._source(ex), "score_answer", scorer)
    monkeypatch.setattr(task, "verify_timeout", timeout)


def _hang(answer, entry):
    while True:
        pass


def _crash(answer, entry):
    raise ZeroDivisionError("scorer bug")


def test_hanging_gym_verifier_is_a_timeout_not_a_wrong_answer(monkeypatch):
    """Third-party scoring of model output runs in a child process that is killed at the deadline."""
    import time

    task = get_task("gym:basic_arithmetic")
    ex = task.generate(1, seed=0)[0]
    _break_scorer(monkeypatch, task, ex, _hang)
    t = time.perf_counter()
    got = task.verify(ex.answer, ex)
    assert time.perf_counter() - t < 5
    assert got.state == TIMEOUT and got.score == 0.0 and got.extracted == ex.answer and "0.5 s" in got.detail
    monkeypatch.undo()
    assert task.verify(ex.answer, ex).correct


def test_crashing_gym_verifier_is_an_error_not_a_wrong_answer(monkeypatch):
    task = get_task("gym:basic_arithmetic")
    ex = task.generate(1, seed=0)[0]
    _break_scorer(monkeypatch, task, ex, _crash)
    got = task.verify(ex.answer, ex)
    assert got.state == ERROR and got.score == 0.0 and "ZeroDivisionError: scorer bug" in got.detail
    # A score that is not in [0, 1] is also the verifier's fault.
    _break_scorer(monkeypatch, task, ex, lambda answer, entry: float("nan"))
    assert task.verify(ex.answer, ex).state == ERROR


def test_partial_credit_is_wrong_with_its_score(monkeypatch):
    task = get_task("gym:basic_arithmetic")
    ex = task.generate(1, seed=0)[0]
    _break_scorer(monkeypatch, task, ex, lambda answer, entry: 0.25)
    assert task.verify(ex.answer, ex) == Outcome(WRONG, 0.25, ex.answer)


def test_verifier_failures_are_counted_apart_in_evaluate_accuracy(monkeypatch):
    """Four replies: right, wrong, a hang and a crash; accuracy is 1/4 with one of each state counted."""
    from reasonsift.evaluate import accuracy
    from reasonsift.models.tokenizer import build_tokenizer

    task = get_task("gym:basic_arithmetic")
    exs = task.generate(5, seed=0, split="test")
    replies = {e.question: r for e, r in zip(exs, ["ok", "wrong", "hang", "crash", ""], strict=True)}
    scorer = task._source(exs[0]).score_answer

    def flaky(answer, entry):
        kind = replies[entry["question"]]
        return {"hang": _hang, "crash": _crash}.get(kind, scorer)(answer, entry)

    def fake_generate(model, tok, prompts, **kw):  # replies in prompt order, as greedy_generate returns them
        assert len(prompts) == len(exs)
        return [{"ok": e.answer, "wrong": e.answer + "9", "": ""}.get(replies[e.question], "1") for e in exs]

    _break_scorer(monkeypatch, task, exs[0], flaky)
    monkeypatch.setattr(accuracy, "greedy_generate", fake_generate)
    res = accuracy.evaluate_accuracy(None, build_tokenizer(), [task.name], n=5, splits=["test"], seed=0)
    (s,) = res.scores
    assert (s.n, s.correct, s.wrong, s.no_answer, s.timeout, s.error) == (5, 1, 1, 1, 1, 1)
    assert s.accuracy == pytest.approx(1 / 5)
    assert [r["state"] for r in res.records] == [CORRECT, WRONG, TIMEOUT, ERROR, NO_ANSWER]
    assert s.to_dict()["timeout"] == 1 and s.to_dict()["error"] == 1
