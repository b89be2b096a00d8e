"""The reasoning-gym adapter: provenance, the dataset's own scoring, splits, multiple choice, round trip."""

from __future__ import annotations

import pytest

pytest.importorskip("reasoning_gym")

import reasoning_gym  # noqa: E402

from reasonsift.data.example import Example  # noqa: E402
from reasonsift.tasks import get_task  # noqa: E402

DATASETS = ["basic_arithmetic", "chain_sum", "word_sorting", "gcd"]


@pytest.mark.parametrize("name", DATASETS)
def test_reference_answers_score_one_and_keep_provenance(name):
    task = get_task(f"gym:{name}")
    assert task is get_task(f"gym:{name}")  # cached: datasets are built once
    for fmt in ("free_form", "multiple_choice"):
        for ex in task.generate(5, seed=2, format=fmt):
            assert ex.problems() == []
            assert ex.meta["source_dataset"] == name and ex.meta["source_index"] == ex.meta["index"]
            assert task.score(ex, ex.answer) == 1.0
            # Independently regenerated with reasoning-gym's own API: same item, scored by its own scorer.
            ds = reasoning_gym.create_dataset(name, size=ex.meta["gym_size"], seed=ex.meta["gym_seed"])
            entry = ds[ex.meta["source_index"]]
            assert entry["question"] == ex.question and ds.score_answer(ex.answer_text(), entry) == 1.0
            if fmt == "multiple_choice":
                assert len(set(ex.choices)) == 4
                wrong = [c for i, c in enumerate(ex.choices) if i != ex.answer_index()]
                assert all(ds.score_answer(c, entry) < 1.0 for c in wrong)
                assert not any(task.verify(ex, c) for c in wrong)


def test_splits_seeds_and_reproducibility():
    task = get_task("gym:basic_arithmetic")
    a = [e.question for e in task.generate(20, seed=0)]
    assert a == [e.question for e in task.generate(20, seed=0)]
    test = [e.question for e in task.generate(20, seed=0, split="test")]
    other = [e.question for e in task.generate(20, seed=1)]
    assert sum(q in a for q in test) <= 2 and sum(q in a for q in other) <= 2
    assert not task.verify(task.example(0), "not a number")


def test_verify_after_a_file_round_trip():
    task = get_task("gym:chain_sum")
    ex = task.example(3, seed=5)
    back = Example.from_dict(ex.to_dict())
    assert task.verify(back, ex.answer) and not task.verify(back, ex.answer + "1")


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
    assert plain.verify(ex, ex.answer) and not plain.verify(ex, ex.answer + "0")


def test_hanging_gym_verifier_scores_zero_within_its_timeout(monkeypatch):
    """Third-party scoring of model output runs in a child process that is killed at the deadline."""
    import time

    task = get_task("gym:basic_arithmetic")
    ex = task.generate(1, seed=0)[0]
    ds = task._source(ex)

    def hang(answer, entry):
        while True:
            pass

    monkeypatch.setattr(ds, "score_answer", hang)
    monkeypatch.setattr(task, "verify_timeout", 0.5)
    t = time.perf_counter()
    assert task.score(ex, ex.answer) == 0.0
    assert time.perf_counter() - t < 5
    monkeypatch.undo()
    assert task.score(ex, ex.answer) == 1.0
