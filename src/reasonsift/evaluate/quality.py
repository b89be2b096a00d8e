"""Reasoning quality of a generated trace: validity, length, and a structural strategy measure per task.

:func:`trace_quality` adds :data:`QUALITY_COLUMNS` to each sample of an eval run:

- ``trace_valid`` / ``trace_invalid_step``: the built-in task's own trace validator (``Task.check_trace``:
  maze: the A* interpreter of arXiv 2505.13775; arith: each step's arithmetic and operands; logic: each step
  applies a rule of the question to the current fact) and the 0-based index of the first invalid step.
  ``None`` for tasks without a validator (reasoning-gym, plain data).
- ``trace_chars`` / ``trace_steps``: the trace's length in characters and in steps (the example's segmenter:
  ``meta["segmenter"]``, default ``auto``).
- ``strategy`` / ``strategy_name``: one structural measure per built-in task (CLAIMS.md C4: at small scale
  strategy is measured on the trace's structure; a judge model is the alternative for real traces). Each is
  computed from the parseable steps whether or not the trace is valid, and is ``None`` when undefined:

  ============  ==========================  =============================================================
  task          ``strategy_name``           what is measured
  ============  ==========================  =============================================================
  maze          ``excess_expansions``       A* nodes closed beyond the optimal path: ``#close`` lines minus
                                            (shortest path length + 1); 0 = the search never left an
                                            optimal path, higher = broader search. ``None`` if the trace
                                            never closes the goal.
  arith         ``steps_per_operation``     equations ``a+b=c`` / ``a-b=c`` in the trace per operation of
                                            the question: 1 = one step per operation (the reference), < 1
                                            merged or skipped steps, > 1 repeated or checking steps.
  logic         ``off_path_fraction``       breadth vs depth of the committed chain: the fraction of the
                                            trace's derived facts that are not on the proof path (the chain
                                            from the entity's category to the concluded color); 0 = one
                                            committed chain (depth-first, the reference), higher = more
                                            side branches explored before committing.
  ============  ==========================  =============================================================

The trace is the text inside ``<think>...</think>`` (everything after an unclosed ``<think>``); a completion
without think tags has an empty trace.
"""

from __future__ import annotations

import re
from typing import Any

from reasonsift.data.example import Example
from reasonsift.data.render import THINK_CLOSE, THINK_OPEN
from reasonsift.data.segment import get_segmenter
from reasonsift.evaluate.verify import task_name
from reasonsift.tasks import TASKS, task_names
from reasonsift.tasks.logic import COLORS, parse_logic
from reasonsift.tasks.maze import parse_maze
from reasonsift.tasks.maze_astar import bfs_distance

QUALITY_COLUMNS: tuple[str, ...] = (
    "trace_valid",
    "trace_invalid_step",
    "trace_chars",
    "trace_steps",
    "strategy",
    "strategy_name",
)
STRATEGY_NAMES = {"maze": "excess_expansions", "arith": "steps_per_operation", "logic": "off_path_fraction"}

_CLOSE = re.compile(r"^\s*close (-?\d+) (-?\d+) (-?\d+) (-?\d+)\s*$", re.M)
_EQUATION = re.compile(r"(-?\d+)\s*([+-])\s*(\d+)\s*=\s*(-?\d+)")
_LOGIC_STEP = re.compile(r"Every ([a-z]+) is (?:a )?([a-z]+), so ([A-Z][a-z]+) is (?:a )?([a-z]+)\.?")


def split_completion(completion: str) -> tuple[str, str]:
    """``(trace, answer)``: the text inside ``<think>...</think>`` and the text after the last ``</think>``.

    >>> split_completion("<think>1+2=3</think>3"), split_completion("<think>1+2="), split_completion("3")
    (('1+2=3', '3'), ('1+2=', ''), ('', '3'))
    """
    if THINK_CLOSE in completion:
        head, answer = completion.rsplit(THINK_CLOSE, 1)
        trace = head.split(THINK_OPEN, 1)[1] if THINK_OPEN in head else head
        return trace.strip(), answer.strip()
    if THINK_OPEN in completion:
        return completion.split(THINK_OPEN, 1)[1].strip(), ""
    return "", completion.strip()


def maze_excess_expansions(example: Example, trace: str) -> float | None:
    """``close`` lines minus the nodes of a shortest path (its length + 1); ``None`` if the goal is never
    closed or the question is not a maze."""
    try:
        grid, start, goal = parse_maze(example.question)
    except ValueError:
        return None
    closes = [(int(m.group(1)), int(m.group(2))) for m in _CLOSE.finditer(trace)]
    dist = bfs_distance(grid, start, goal)
    if goal not in closes or dist is None:
        return None
    return float(len(closes) - (dist + 1))


def arith_steps_per_operation(example: Example, trace: str) -> float | None:
    """Equations in the trace per ``+``/``-`` operation of the question; ``None`` if it has none."""
    n_ops = len(re.findall(r"(?<=\d)\s*[+-]", example.question))
    if n_ops == 0:
        return None
    return len(_EQUATION.findall(trace)) / n_ops


def logic_off_path_fraction(example: Example, trace: str) -> float | None:
    """Fraction of derived facts (``Every A is B, so X is B.`` lines) not on the proof path; ``None`` when the
    trace derives nothing. The proof path is followed back from the last derived color (else the last derived
    fact) through the derivation of each premise to the entity's starting category."""
    try:
        _, who, start = parse_logic(example.question)
    except ValueError:
        return None
    derivations = [(m.group(1), m.group(4)) for m in _LOGIC_STEP.finditer(trace) if m.group(3) == who]
    if not derivations:
        return None
    first_from: dict[str, int] = {}  # conclusion -> index of the step that first derived it
    for i, (_, concl) in enumerate(derivations):
        first_from.setdefault(concl, i)
    colors = [i for i, (_, c) in enumerate(derivations) if c in COLORS]
    i: int | None = colors[-1] if colors else len(derivations) - 1
    on_path: set[int] = set()
    while i is not None and i not in on_path:
        on_path.add(i)
        premise = derivations[i][0]
        i = None if premise == start else first_from.get(premise)
        if i is not None and i > max(on_path):  # a premise derived only later does not support this step
            i = None
    return (len(derivations) - len(on_path)) / len(derivations)


_STRATEGIES = {
    "maze": maze_excess_expansions,
    "arith": arith_steps_per_operation,
    "logic": logic_off_path_fraction,
}


def trace_quality(completion: str, example: Example) -> dict[str, Any]:
    """The :data:`QUALITY_COLUMNS` of one sample (see the module docstring).

    >>> from reasonsift.tasks import get_task
    >>> ex = get_task("arith").example(0)
    >>> q = trace_quality(f"<think>{ex.trace}</think>{ex.answer}", ex)
    >>> q["trace_valid"], q["strategy"], q["strategy_name"]
    (True, 1.0, 'steps_per_operation')
    """
    trace, _ = split_completion(completion)
    name = task_name(example)
    task_names()  # loads the built-in registry
    row: dict[str, Any] = dict.fromkeys(QUALITY_COLUMNS)
    row["trace_chars"] = len(trace)
    row["trace_steps"] = len(get_segmenter(example.meta.get("segmenter", "auto"))(trace))
    if name in TASKS:
        try:
            check = TASKS[name].check_trace(example, trace)
        except Exception:  # noqa: BLE001 - a validator crash is unknown validity, not an invalid trace
            check = None
        if check is not None:
            row["trace_valid"] = bool(check.valid)
            row["trace_invalid_step"] = None if check.valid else check.step
    if name in _STRATEGIES:
        row["strategy_name"] = STRATEGY_NAMES[name]
        row["strategy"] = _STRATEGIES[name](example, trace)
    return row


__all__ = [
    "QUALITY_COLUMNS",
    "STRATEGY_NAMES",
    "arith_steps_per_operation",
    "logic_off_path_fraction",
    "maze_excess_expansions",
    "split_completion",
    "trace_quality",
]
