"""``maze``: grid shortest path with walls; the trace is an A* search trace (CLAIMS.md C3, arXiv 2505.13775).

Question (compact text)::

    maze 4x4 start 0 0 goal 3 2
    ..#.
    .#..
    ....
    #..#

Trace: one ``create x y g h`` / ``close x y g h`` line per A* event (see :mod:`maze_astar` for the rules and
the tie-breaking); answer: the plan as moves ``R``/``D``/``L``/``U`` (``RRDD``). Any shortest valid plan verifies.

Difficulty d: an ``(3 + d) x (3 + d)`` grid, each cell a wall with probability ``0.2 + 0.025 (d - 1)``;
start and goal are free cells at least ``3 + d - 1`` apart by shortest path (so every maze is solvable and
non-trivial; walls are redrawn until it is). OOD: the same generator on a grid 3 cells wider and taller.
"""

from __future__ import annotations

import random
import re

from reasonsift.data.example import Example
from reasonsift.data.segment import by_newline
from reasonsift.tasks.base import BuiltinTask, Item, TraceCheck
from reasonsift.tasks.maze_astar import MOVES, Grid, Pos, astar, bfs_distance, check_plan, validate_astar
from reasonsift.tasks.outcome import ERROR, Outcome, final_answer, no_answer

_HEADER = re.compile(r"maze (\d+)x(\d+) start (\d+) (\d+) goal (\d+) (\d+)")
_MAX_TRIES = 10_000
_OPPOSITE = {"R": "L", "L": "R", "U": "D", "D": "U"}


def parse_maze(question: str) -> tuple[Grid, Pos, Pos]:
    """Inverse of the question format; raises ValueError on anything else."""
    lines = [ln.strip() for ln in question.strip().splitlines()]
    m = _HEADER.fullmatch(lines[0]) if lines else None
    if not m:
        raise ValueError("question: not a maze header 'maze WxH start x y goal x y'")
    w, h, sx, sy, gx, gy = (int(v) for v in m.groups())
    rows = tuple(lines[1:])
    if len(rows) != h or any(len(r) != w or set(r) - {".", "#"} for r in rows):
        raise ValueError(f"question: expected {h} rows of {w} '.'/'#' cells")
    return Grid(rows), (sx, sy), (gx, gy)


def verify_maze(completion: str, example: Example) -> Outcome:
    """The last line of the final answer is a shortest valid plan (any one); separators and case are ignored.
    A question that is not a maze is the example's fault: ``error``, not ``wrong``."""
    lines = final_answer(completion).splitlines()
    plan = re.sub(r"[\s,]", "", lines[-1]).upper() if lines else ""
    if not plan:
        return no_answer(completion)
    try:
        grid, start, goal = parse_maze(example.question)
    except ValueError as e:
        return Outcome(ERROR, 0.0, plan, str(e))
    ok, reason = check_plan(grid, start, goal, plan)
    return Outcome.judged(ok, plan, reason)


class Maze(BuiltinTask):
    name = "maze"
    domain = "planning"

    def size(self, difficulty: int, split: str) -> int:
        return 3 + difficulty + (3 if split == "ood" else 0)

    def wall_density(self, difficulty: int) -> float:
        return 0.2 + 0.025 * (difficulty - 1)

    def make(self, rng: random.Random, difficulty: int, split: str) -> Item:
        n, p = self.size(difficulty, split), self.wall_density(difficulty)
        grid, start, goal = self._draw(rng, n, p)
        lines, plan = astar(grid, start, goal)
        question = f"maze {n}x{n} start {start[0]} {start[1]} goal {goal[0]} {goal[1]}\n" + "\n".join(
            grid.rows
        )
        meta = {"size": n, "wall_density": p, "plan_len": len(plan), "n_steps": len(lines)}
        return Item(question=question, trace="\n".join(lines), answer=plan, meta=meta)

    def _draw(self, rng: random.Random, n: int, p: float) -> tuple[Grid, Pos, Pos]:
        # Rejection sampling keeps the walls i.i.d. while guaranteeing a solvable, non-trivial maze.
        for _ in range(_MAX_TRIES):
            rows = tuple("".join("#" if rng.random() < p else "." for _ in range(n)) for _ in range(n))
            grid = Grid(rows)
            free = [(x, y) for y in range(n) for x in range(n) if grid.free((x, y))]
            if len(free) < 2:
                continue
            start, goal = rng.sample(free, 2)
            dist = bfs_distance(grid, start, goal)
            if dist is not None and dist >= n - 1:
                return grid, start, goal
        raise RuntimeError(f"maze: no solvable {n}x{n} maze in {_MAX_TRIES} draws")  # pragma: no cover

    def verify_free(self, completion: str, example: Example) -> Outcome:
        return verify_maze(completion, example)

    def validate_trace(self, example: Example, trace: str) -> TraceCheck:
        try:
            grid, start, goal = parse_maze(example.question)
        except ValueError as e:
            return TraceCheck(False, None, str(e))
        return validate_astar(grid, start, goal, by_newline(trace))

    def distractors(self, rng: random.Random, item: Item, k: int) -> list[str]:
        """Wrong plans that look right: same length with one move mirrored or two moves swapped, the plan
        reversed, one move short, or a detour (valid but not shortest). Each is checked to be wrong."""
        grid, start, goal = parse_maze(item.question)
        plan = item.answer
        cands: list[str] = []
        for i in range(len(plan)):
            cands.append(plan[:i] + _OPPOSITE[plan[i]] + plan[i + 1 :])
            if i + 1 < len(plan) and plan[i] != plan[i + 1]:
                cands.append(plan[:i] + plan[i + 1] + plan[i] + plan[i + 2 :])
        rng.shuffle(cands)
        tail = [plan[::-1], plan[:-1]] + [
            plan[:i] + m + _OPPOSITE[m] + plan[i:] for i in (0, len(plan)) for m in MOVES
        ]
        rng.shuffle(tail)
        out: list[str] = []
        for c in cands + tail:
            if c and c != plan and c not in out and not check_plan(grid, start, goal, c)[0]:
                out.append(c)
            if len(out) == k:
                return out
        while len(out) < k:  # only for tiny plans: random strings of the same length
            c = "".join(rng.choice("RDLU") for _ in range(len(plan) + 1))
            if c not in out and not check_plan(grid, start, goal, c)[0]:
                out.append(c)
        return out
