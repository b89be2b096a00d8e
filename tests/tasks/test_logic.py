"""Logic: the question/trace format, the hop validator's error kinds, the verifier and the distractors."""

from __future__ import annotations

import random

import pytest

from reasonsift.data.example import Example
from reasonsift.tasks.logic import COLORS, Logic, parse_logic

QUESTION = (
    "Every yumpus is red. Every wumpus is a yumpus. Every tumpus is blue. Every yumpus is a gorpus. "
    "Max is a wumpus. What color is Max?"
)
REFERENCE = ["Every wumpus is a yumpus, so Max is a yumpus.", "Every yumpus is red, so Max is red."]
TASK = Logic()
EX = Example(id="l", question=QUESTION, answer="red", trace="\n".join(REFERENCE))


def test_parse_and_reference():
    rules, who, start = parse_logic(QUESTION)
    assert rules == {"yumpus": {"red", "gorpus"}, "wumpus": {"yumpus"}, "tumpus": {"blue"}}
    assert (who, start) == ("Max", "wumpus")
    assert TASK.validate_trace(EX, EX.trace).valid


@pytest.mark.parametrize(
    ("lines", "step", "reason"),
    [
        (["Every wumpus is a tumpus, so Max is a tumpus."], 0, "not in the question"),
        (["Every yumpus is red, so Max is red."], 0, "premise"),
        (["Every wumpus is a yumpus, so Sam is a yumpus.", REFERENCE[1]], 0, "about Sam"),
        (["Every wumpus is a yumpus, so Max is a gorpus.", REFERENCE[1]], 0, "does not follow"),
        (["Max is a yumpus.", REFERENCE[1]], 0, "is not 'Every A"),
        (REFERENCE[:1], 1, "before reaching a color"),
        ([REFERENCE[0], "Every yumpus is a gorpus, so Max is a gorpus."], 2, "before reaching a color"),
        ([*REFERENCE, REFERENCE[1]], 2, "after the conclusion"),
    ],
)
def test_validator_catches(lines, step, reason):
    got = TASK.validate_trace(EX, "\n".join(lines))
    assert not got.valid and got.step == step and reason in got.reason, got


def test_verify():
    def state(reply):
        return TASK.verify(reply, EX).state

    assert state("red") == state("Max is red.") == state(" RED ") == state("<think>x</think>red") == "correct"
    assert state("blue") == state("reddish") == "wrong"
    assert state("") == state("<think>Max is red") == "no_answer"
    assert TASK.verify("Max is red.", EX).extracted == "red"


def test_hops_and_trace_length_follow_difficulty():
    for d in (1, 4):
        ex = TASK.example(0, difficulty=d)
        assert len(ex.trace.splitlines()) == d + 1 == ex.meta["hops"]
        ood = TASK.example(0, difficulty=d, split="ood")
        assert len(ood.trace.splitlines()) == d + 3
        # d - 1 dead-end branches + 3 distractor chains on top of the main chain's rules.
        rules, _, _ = parse_logic(ex.question)
        assert sum(len(v) for v in rules.values()) == ex.meta["n_rules"]


def test_question_has_one_color_per_chain_and_a_unique_answer():
    for i in range(30):
        ex = TASK.example(i, difficulty=3)
        rules, _, cat = parse_logic(ex.question)
        reached = set()
        frontier = [cat]
        while frontier:  # everything the entity provably is: exactly one color
            c = frontier.pop()
            for b in rules.get(c, ()):
                if b not in reached:
                    reached.add(b)
                    frontier.append(b)
        assert reached & set(COLORS) == {ex.answer}


def test_distractors_come_from_the_question():
    item = TASK.make(random.Random(0), 2, "train")
    wrong = TASK.distractors(random.Random(0), item, 3)
    assert sorted(wrong) == sorted(item.meta["distractor_colors"]) and item.answer not in wrong
    assert all(f" {c}." in item.question for c in wrong)
    more = TASK.distractors(random.Random(0), item, 5)
    assert len(set(more)) == 5 and item.answer not in more
