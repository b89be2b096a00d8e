"""Maze: the A* reference trace, the A* interpreter's error kinds, the plan checker and the distractors."""

from __future__ import annotations

import random

import pytest

from reasonsift.data.example import Example
from reasonsift.tasks.maze import Maze, parse_maze
from reasonsift.tasks.maze_astar import Grid, astar, bfs_distance, check_plan, manhattan

# Start top-left, goal top-right, a wall between them: the path goes down and around.
QUESTION = "maze 3x3 start 0 0 goal 2 0\n.#.\n...\n..."
REFERENCE = [
    "create 0 0 0 2",
    "close 0 0 0 2",
    "create 0 1 1 3",
    "close 0 1 1 3",
    "create 1 1 2 2",
    "create 0 2 2 4",
    "close 1 1 2 2",
    "create 2 1 3 1",
    "create 1 2 3 3",
    "close 2 1 3 1",
    "create 2 2 4 2",
    "create 2 0 4 0",
    "close 2 0 4 0",
]
TASK = Maze()
EX = Example(id="m", question=QUESTION, answer="DRRU", trace="\n".join(REFERENCE))


def check(lines: list[str]):
    return TASK.validate_trace(EX, "\n".join(lines))


def test_reference_trace_by_hand():
    grid, start, goal = parse_maze(QUESTION)
    assert astar(grid, start, goal) == (REFERENCE, "DRRU")
    assert check(REFERENCE).valid


def _replace(i: int, line: str) -> list[str]:
    return REFERENCE[:i] + [line] + REFERENCE[i + 1 :]


@pytest.mark.parametrize(
    ("lines", "step", "reason"),
    [
        (_replace(2, "create 0 2 1 3"), 2, "not a neighbour"),
        (_replace(2, "create 1 0 1 1"), 2, "is a wall"),
        (_replace(2, "create -1 0 1 3"), 2, "outside the grid"),
        (_replace(2, "create 0 1 2 3"), 2, "wrong g"),
        (_replace(2, "create 0 1 1 2"), 2, "wrong h"),
        (_replace(3, "close 1 1 1 3"), 3, "not open"),
        (REFERENCE[:2] + ["close 0 0 0 2"], 2, "already closed"),
        (_replace(6, "close 0 2 2 4"), 6, "lower f"),
        (_replace(6, "close 1 1 3 2"), 6, "wrong g"),
        (_replace(6, "close 1 1 2 3"), 6, "wrong h"),
        (REFERENCE[:5] + REFERENCE[6:], 5, "did not create its neighbour 0 2"),
        (REFERENCE[:4] + ["create 2 2 2 2"], 4, "not a neighbour"),
        (REFERENCE[:5] + ["create 1 1 2 2"], 5, "already open"),
        (REFERENCE[:4] + ["create 0 0 2 2"], 4, "already closed"),
        (REFERENCE[:-1], 12, "ends before the goal"),
        (REFERENCE + ["create 1 0 5 1"], 13, "after the goal"),
        (_replace(4, "make 1 1 2 2"), 4, "is not 'create|close"),
        (["create 0 1 1 3", *REFERENCE], 0, "must create the start"),
    ],
)
def test_interpreter_reports_first_invalid_step(lines, step, reason):
    got = check(lines)
    assert not got.valid
    assert got.step == step, got
    assert reason in got.reason, got


def test_any_minimum_f_node_may_be_closed():
    # Tie-breaking is documented but not enforced: (0,1) and (1,0) both have f = 2 on an open grid.
    ex = Example(id="t", question="maze 2x2 start 0 0 goal 1 1\n..\n..", answer="DR")
    lines = ["create 0 0 0 2", "close 0 0 0 2", "create 1 0 1 1", "create 0 1 1 1", "close 0 1 1 1"]
    lines += ["create 1 1 2 0", "close 1 1 2 0"]
    assert TASK.validate_trace(ex, "\n".join(lines)).valid


def test_astar_closes_nodes_at_their_true_distance():
    # Independent reference: with a consistent heuristic, every closed node's g is its BFS distance, and f
    # never decreases along the close order.
    for i in range(40):
        ex = TASK.example(i, difficulty=4, split="ood")
        grid, start, goal = parse_maze(ex.question)
        fs = []
        for line in ex.trace.splitlines():
            kind, x, y, g, h = line.split()
            if kind == "close":
                assert int(g) == bfs_distance(grid, start, (int(x), int(y)))
                fs.append(int(g) + int(h))
        assert fs == sorted(fs)
        assert len(ex.answer) == bfs_distance(grid, start, goal) >= ex.meta["size"] - 1


def test_check_plan_reasons():
    grid, start, goal = parse_maze(QUESTION)
    assert check_plan(grid, start, goal, "DRRU") == (True, "")
    assert check_plan(grid, start, goal, "R")[1].startswith("move 0 enters the wall")
    assert "leaves the grid" in check_plan(grid, start, goal, "L")[1]
    assert "not at the goal" in check_plan(grid, start, goal, "DRR")[1]
    assert "shortest path has 4" in check_plan(grid, start, goal, "DDRRUU")[1]
    assert "not one of" in check_plan(grid, start, goal, "DX")[1]


def test_verify_accepts_any_shortest_plan_and_separators():
    ex = Example(id="t", question="maze 2x2 start 0 0 goal 1 1\n..\n..", answer="DR")
    assert all(TASK.verify(r, ex).correct for r in ("DR", "RD", "r, d", "<think>x</think>RD"))
    assert TASK.verify("r, d", ex).extracted == "RD"
    wrong = TASK.verify("RDLR", ex)
    assert wrong.state == "wrong" and "shortest path has 2" in wrong.detail
    assert TASK.verify("", ex).state == TASK.verify("<think>RD", ex).state == "no_answer"


def test_a_question_that_is_not_a_maze_is_an_error_not_a_wrong_answer():
    ex = Example(id="t", question="not a maze", answer="DR")
    got = TASK.verify("DR", ex)
    assert got.state == "error" and got.score == 0.0 and "maze header" in got.detail


def test_every_maze_is_solvable_and_parses_back():
    for split in ("train", "ood"):
        for i in range(30):
            ex = TASK.example(i, seed=9, split=split, difficulty=5)
            grid, start, goal = parse_maze(ex.question)
            assert grid.free(start) and grid.free(goal) and start != goal
            assert bfs_distance(grid, start, goal) is not None


def test_distractors_are_wrong_and_same_length_first():
    item = TASK.make(random.Random(0), 2, "train")
    grid, start, goal = parse_maze(item.question)
    wrong = TASK.distractors(random.Random(1), item, 3)
    assert len(set(wrong)) == 3 and item.answer not in wrong
    assert all(not check_plan(grid, start, goal, w)[0] for w in wrong)
    assert all(len(w) == len(item.answer) for w in wrong)


def test_parse_rejects_garbage():
    with pytest.raises(ValueError):
        parse_maze("maze 2x2 start 0 0 goal 1 1\n..")
    assert not TASK.validate_trace(Example(id="x", question="hi", answer="R"), "create 0 0 0 0").valid
    assert manhattan((0, 0), (2, 3)) == 5
    assert Grid(("..",)).neighbours((0, 0)) == [(1, 0)]
