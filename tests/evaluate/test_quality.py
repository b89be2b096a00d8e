import doctest

import pytest

from reasonsift.data.example import Example
from reasonsift.evaluate import quality
from reasonsift.evaluate.quality import (
    QUALITY_COLUMNS,
    arith_steps_per_operation,
    logic_off_path_fraction,
    maze_excess_expansions,
    split_completion,
    trace_quality,
)
from reasonsift.tasks import get_task, task_names

MAZE = Example("m", "maze 3x3 start 0 0 goal 2 0\n...\n.#.\n...", "RR", meta={"task": "maze"})
MAZE_TRACE = [
    "create 0 0 0 2",
    "close 0 0 0 2",
    "create 1 0 1 1",
    "create 0 1 1 3",
    "close 1 0 1 1",
    "create 2 0 2 0",
    "close 2 0 2 0",
]
ARITH = Example("a", "10+5-3", "12", meta={"task": "arith"})
LOGIC = Example(
    "l",
    "Every wumpus is a yumpus. Every yumpus is red. Every wumpus is a gorpus. Every tumpus is blue. "
    "Max is a wumpus. What color is Max?",
    "red",
    meta={"task": "logic"},
)
DEPTH = "Every wumpus is a yumpus, so Max is a yumpus.\nEvery yumpus is red, so Max is red."
BREADTH = "Every wumpus is a gorpus, so Max is a gorpus.\n" + DEPTH


def test_doctests():
    assert doctest.testmod(quality).failed == 0


def test_split_completion():
    assert split_completion("<think> a </think> b ") == ("a", "b")
    assert split_completion("<think>a</think>x</think>b") == ("a</think>x", "b")
    assert split_completion("<think>never closed") == ("never closed", "")
    assert split_completion("a</think>b") == ("a", "b")
    assert split_completion("just an answer") == ("", "just an answer")


def test_maze_excess_expansions_hand_built():
    assert maze_excess_expansions(MAZE, "\n".join(MAZE_TRACE)) == 0.0  # 3 closes, path RR has 3 nodes
    # The search also expands (0, 1) off the optimal path: one node beyond it.
    wider = MAZE_TRACE[:5] + ["close 0 1 1 3", "create 0 2 2 4"] + MAZE_TRACE[5:]
    assert maze_excess_expansions(MAZE, "\n".join(wider)) == 1.0
    assert maze_excess_expansions(MAZE, "\n".join(MAZE_TRACE[:-1])) is None  # goal never closed
    assert maze_excess_expansions(Example("x", "not a maze", "R"), "close 0 0 0 0") is None


def test_arith_steps_per_operation_hand_built():
    assert arith_steps_per_operation(ARITH, "10+5=15;15-3=12") == 1.0
    assert arith_steps_per_operation(ARITH, "10+5-3=12") == 0.5  # two operations merged into one step
    assert arith_steps_per_operation(ARITH, "10+5=15;15-3=12;15-3=12") == 1.5  # a repeated check
    assert arith_steps_per_operation(ARITH, "") == 0.0
    assert arith_steps_per_operation(Example("x", "12", "12"), "12") is None


def test_logic_off_path_fraction_hand_built():
    assert logic_off_path_fraction(LOGIC, DEPTH) == 0.0
    assert logic_off_path_fraction(LOGIC, BREADTH) == pytest.approx(1 / 3)  # gorpus is off the proof path
    two_side = "Every tumpus is blue, so Max is blue.\n" + BREADTH  # a step about an unheld fact, off path
    assert logic_off_path_fraction(LOGIC, two_side) == pytest.approx(2 / 4)
    assert logic_off_path_fraction(LOGIC, "nothing derived") is None


def test_trace_quality_hand_built():
    q = trace_quality(f"<think>{BREADTH}</think>red", LOGIC)
    assert q == {
        "trace_valid": False,  # the validator wants one committed chain: the second step leaves gorpus
        "trace_invalid_step": 1,
        "trace_chars": len(BREADTH),
        "trace_steps": 3,
        "strategy": pytest.approx(1 / 3),
        "strategy_name": "off_path_fraction",
    }
    q = trace_quality("<think>10+5=15;15-3=13</think>13", ARITH)
    assert (q["trace_valid"], q["trace_invalid_step"], q["trace_steps"], q["strategy"]) == (False, 1, 2, 1.0)


@pytest.mark.parametrize("fmt", ["free_form", "multiple_choice"])
@pytest.mark.parametrize("name", task_names())
def test_reference_traces_are_valid_with_reference_strategy(name, fmt):
    task = get_task(name)
    for i in range(5):
        ex = task.example(i, format=fmt, difficulty=2)
        q = trace_quality(f"<think>{ex.trace}</think>{ex.answer}", ex)
        assert tuple(q) == QUALITY_COLUMNS
        assert q["trace_valid"] is True and q["trace_invalid_step"] is None
        assert q["trace_chars"] == len(ex.trace) and q["trace_steps"] == len(ex.steps())
        want = {"arith": 1.0, "logic": 0.0}.get(name)
        assert q["strategy"] == want if want is not None else q["strategy"] >= 0.0


def test_swapped_trace_is_invalid():
    a, b = (get_task("maze").example(i) for i in (0, 1))
    q = trace_quality(f"<think>{b.trace}</think>{a.answer}", a)
    assert q["trace_valid"] is False and isinstance(q["trace_invalid_step"], int)


def test_no_validator_and_no_trace():
    plain = Example("p", "q", "7")
    assert trace_quality("<think>abc</think>7", plain) == {
        "trace_valid": None,
        "trace_invalid_step": None,
        "trace_chars": 3,
        "trace_steps": 1,
        "strategy": None,
        "strategy_name": None,
    }
    q = trace_quality("12", ARITH)  # no trace at all: invalid (no steps), nothing to measure structurally
    assert (q["trace_valid"], q["trace_chars"], q["trace_steps"], q["strategy"]) == (False, 0, 0, 0.0)
