"""Registry-wide properties of every built-in task: one interface, references verify and validate, items are reproducible,
seeds and splits differ, OOD is harder, and only the built-in tokenizer's characters are used."""

from __future__ import annotations

import statistics

import pytest

from reasonsift.models.tokenizer import ALPHABET
from reasonsift.tasks import SPLITS, Task, get_task, task_names
from reasonsift.tasks.outcome import CORRECT, NO_ANSWER, WRONG, Outcome

FORMATS = ("free_form", "multiple_choice")
N = 6


def test_registry_lists_builtins():
    assert {"arith", "maze", "logic"} <= set(task_names())
    with pytest.raises(ValueError, match="unknown"):
        get_task("nope")


def test_every_task_satisfies_the_task_interface():
    for name in task_names():
        task = get_task(name)
        assert isinstance(task, Task) and task.name == name and task.domain


@pytest.mark.parametrize("name", ["arith", "maze", "logic"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_reference_verifies_and_validates(name, fmt):
    """Every task x format x split x difficulty: the reference reply (with and without its trace) is
    ``correct``, every wrong option is ``wrong``, and an empty or unfinished reply is ``no_answer``."""
    task = get_task(name)
    for split in SPLITS:
        for d in range(1, task.max_difficulty + 1):
            for ex in task.generate(N, seed=3, split=split, difficulty=d, format=fmt):
                assert ex.problems() == []
                for reply in (ex.answer, f"<think>{ex.trace}</think>{ex.answer}"):
                    got = task.verify(reply, ex)
                    assert got == Outcome(CORRECT, 1.0, got.extracted) and got.correct, (ex, got)
                assert task.score(ex, ex.answer) == 1.0
                for reply in ("", "  ", f"<think>{ex.trace}", f"<think>{ex.trace}</think>"):
                    assert task.verify(reply, ex).state == NO_ANSWER, (ex, reply)
                check = task.check_trace(ex, ex.trace)
                assert check.valid, (ex, check)
                assert set(ex.question + ex.trace + ex.answer) <= set(ALPHABET)
                # The multiple-choice twin of the item (same question) supplies wrong answers of both kinds.
                mc = task.example(
                    ex.meta["index"], seed=3, split=split, difficulty=d, format="multiple_choice"
                )
                assert mc.question == ex.question and len(mc.choices) == 4 and len(set(mc.choices)) == 4
                wrong_texts = [c for i, c in enumerate(mc.choices) if i != mc.answer_index()]
                wrong_letters = [letter for letter in "ABCD" if letter != mc.answer]
                for reply in wrong_letters if fmt == "multiple_choice" else wrong_texts:
                    got = task.verify(reply, ex)
                    assert got.state == WRONG and got.score == 0.0 and not got.correct, (ex, reply, got)
                if fmt == "multiple_choice":
                    # Option texts are judged by the free-form verifier against the answer's text.
                    assert all(task.verify_free(c, ex).state == WRONG for c in wrong_texts), ex
                    assert task.verify_free(ex.answer_text(), ex).correct


@pytest.mark.parametrize("name", ["arith", "maze", "logic"])
def test_reproducible_and_distinct(name):
    task = get_task(name)
    a = [e.to_dict() for e in task.generate(10, seed=1)]
    assert a == [e.to_dict() for e in task.generate(10, seed=1)]
    assert task.example(7, seed=1).to_dict() == a[7]  # an item depends on its index only
    other_seed = [e.question for e in task.generate(10, seed=2)]
    other_split = [e.question for e in task.generate(10, seed=1, split="test")]
    qs = [e["question"] for e in a]
    assert len(set(qs)) >= 8
    assert sum(q in qs for q in other_seed) <= 1 and sum(q in qs for q in other_split) <= 1


@pytest.mark.parametrize("name", ["arith", "maze", "logic"])
def test_ood_is_harder(name):
    task = get_task(name)
    for d in (1, 3):
        train = task.generate(30, seed=0, split="train", difficulty=d)
        ood = task.generate(30, seed=0, split="ood", difficulty=d)
        # Longer reference traces on average, and a structurally larger problem on every item.
        assert statistics.mean(len(e.trace) for e in ood) > statistics.mean(len(e.trace) for e in train)
        key = {"arith": "n_terms", "maze": "size", "logic": "hops"}[name]
        assert min(e.meta[key] for e in ood) > max(e.meta[key] for e in train)


@pytest.mark.parametrize("name", ["maze", "logic"])
def test_default_difficulty_traces_are_short(name):
    # Small enough for a ~1M-parameter character-level model.
    exs = get_task(name).generate(50, seed=0)
    assert statistics.mean(len(e.trace) for e in exs) < 300


@pytest.mark.parametrize("name", ["arith", "maze", "logic"])
def test_bad_options_raise(name):
    task = get_task(name)
    with pytest.raises(ValueError, match="split"):
        task.example(0, split="validation")
    with pytest.raises(ValueError, match="difficulty"):
        task.example(0, difficulty=task.max_difficulty + 1)
    with pytest.raises(ValueError, match="format"):
        task.example(0, format="essay")


@pytest.mark.parametrize("name", ["arith", "maze", "logic"])
def test_multiple_choice_trace_must_name_the_right_option(name):
    task = get_task(name)
    ex = task.example(0, format="multiple_choice")
    body = ex.trace.rpartition("\n")[0]
    other = next(i for i in range(4) if i != ex.answer_index())
    wrong_letter = f"{body}\n{ex.answer_text()} is option {'ABCD'[other]}"
    wrong_text = f"{body}\n{ex.choices[other]} is option {ex.answer}"
    for trace in (wrong_letter, wrong_text, body):
        got = task.check_trace(ex, trace)
        assert not got.valid and got.step is not None, (trace, got)
    # The free-form reasoning is still checked first.
    assert not task.check_trace(ex, f"garbage\n{ex.trace}").valid
