"""Grid mazes, the reference A* search trace, the A* trace interpreter and the plan checker.

Pure functions over a :class:`Grid` (rows of ``.`` free / ``#`` wall). Coordinates are ``(x, y)``: ``x`` the
column (0 = left), ``y`` the row (0 = top). Moves: ``R`` = x+1, ``D`` = y+1, ``L`` = x-1, ``U`` = y-1.

The trace follows Stechly, Kambhampati et al. (arXiv 2505.13775): one line per search event,
``create x y g h`` when a node enters the open list and ``close x y g h`` when it is expanded, with
``g`` = steps from the start and ``h`` = Manhattan distance to the goal.

Deterministic tie-breaking of the reference search: among open nodes the one with the lowest
``f = g + h`` is closed; ties go to the lowest ``h`` (the deepest node), then to the node created first.
Neighbours of a closed node are created in the order R, D, L, U. The interpreter does not enforce the tie
order: any open node of minimal ``f`` may be closed, as in the paper's validator.
"""

from __future__ import annotations

import heapq
import re
from collections import deque
from dataclasses import dataclass

from reasonsift.tasks.base import TraceCheck

Pos = tuple[int, int]
MOVES: dict[str, Pos] = {"R": (1, 0), "D": (0, 1), "L": (-1, 0), "U": (0, -1)}
_STEP = re.compile(r"(create|close) (-?\d+) (-?\d+) (-?\d+) (-?\d+)")


@dataclass(frozen=True)
class Grid:
    rows: tuple[str, ...]

    @property
    def width(self) -> int:
        return len(self.rows[0])

    @property
    def height(self) -> int:
        return len(self.rows)

    def inside(self, p: Pos) -> bool:
        return 0 <= p[0] < self.width and 0 <= p[1] < self.height

    def free(self, p: Pos) -> bool:
        return self.inside(p) and self.rows[p[1]][p[0]] == "."

    def neighbours(self, p: Pos) -> list[Pos]:
        """Free neighbours of ``p`` in the fixed expansion order R, D, L, U."""
        out = [(p[0] + dx, p[1] + dy) for dx, dy in MOVES.values()]
        return [q for q in out if self.free(q)]


def manhattan(a: Pos, b: Pos) -> int:
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


def bfs_distance(grid: Grid, start: Pos, goal: Pos) -> int | None:
    """Length of a shortest start->goal path (None if unreachable): the ground truth for plans."""
    dist = {start: 0}
    queue = deque([start])
    while queue:
        p = queue.popleft()
        if p == goal:
            return dist[p]
        for q in grid.neighbours(p):
            if q not in dist:
                dist[q] = dist[p] + 1
                queue.append(q)
    return None


def astar(grid: Grid, start: Pos, goal: Pos) -> tuple[list[str], str]:
    """Reference A* run: ``(trace lines, plan as moves)``. The start must reach the goal."""
    h = {}  # memo of Manhattan distances

    def hv(p: Pos) -> int:
        if p not in h:
            h[p] = manhattan(p, goal)
        return h[p]

    lines = [f"create {start[0]} {start[1]} 0 {hv(start)}"]
    open_g: dict[Pos, int] = {start: 0}
    parent: dict[Pos, Pos] = {}
    closed: set[Pos] = set()
    counter = 0
    heap = [(hv(start), hv(start), counter, start)]
    while heap:
        f, hp, _, p = heapq.heappop(heap)
        if p in closed or open_g.get(p) != f - hp:
            continue  # stale entry: the node was re-created with a lower g
        g = open_g.pop(p)
        closed.add(p)
        lines.append(f"close {p[0]} {p[1]} {g} {hp}")
        if p == goal:
            return lines, _plan(parent, start, goal)
        for q in grid.neighbours(p):
            if q in closed or open_g.get(q, g + 2) <= g + 1:
                continue
            open_g[q] = g + 1
            parent[q] = p
            counter += 1
            lines.append(f"create {q[0]} {q[1]} {g + 1} {hv(q)}")
            heapq.heappush(heap, (g + 1 + hv(q), hv(q), counter, q))
    raise ValueError(f"maze: goal {goal} is unreachable from {start}")


def _plan(parent: dict[Pos, Pos], start: Pos, goal: Pos) -> str:
    by_delta = {d: m for m, d in MOVES.items()}
    moves, p = [], goal
    while p != start:
        q = parent[p]
        moves.append(by_delta[(p[0] - q[0], p[1] - q[1])])
        p = q
    return "".join(reversed(moves))


def check_plan(grid: Grid, start: Pos, goal: Pos, plan: str) -> tuple[bool, str]:
    """Is ``plan`` (moves ``RDLU``) a shortest valid path from start to goal? Returns ``(ok, reason)``."""
    p = start
    for i, m in enumerate(plan):
        if m not in MOVES:
            return False, f"move {i} {m!r} is not one of R, D, L, U"
        p = (p[0] + MOVES[m][0], p[1] + MOVES[m][1])
        if not grid.inside(p):
            return False, f"move {i} leaves the grid at {p}"
        if not grid.free(p):
            return False, f"move {i} enters the wall at {p}"
    if p != goal:
        return False, f"plan ends at {p}, not at the goal {goal}"
    best = bfs_distance(grid, start, goal)
    if len(plan) != best:
        return False, f"plan has {len(plan)} moves; the shortest path has {best}"
    return True, ""


def validate_astar(grid: Grid, start: Pos, goal: Pos, steps: list[str]) -> TraceCheck:
    """Interpret an A* trace and report the first invalid step (0-based) and why.

    Rules: each line is ``create x y g h`` or ``close x y g h``; the first line creates the start with g = 0;
    a created cell is inside the grid, free, a neighbour of the last closed node, not already closed, not
    already open with an equal or lower g, and has g = g(last closed) + 1 and h = Manhattan distance to the
    goal; a closed node is open (and not already closed) with the g it was created with and the right h, and
    no open node has a lower f = g + h; before the next close, every free, not-closed neighbour of the last
    closed node that the expansion improves has been created; the trace ends by closing the goal.
    """
    open_g: dict[Pos, int] = {}
    closed: set[Pos] = set()
    last: Pos | None = None
    last_g = 0
    pending: set[Pos] = set()
    for i, raw in enumerate(steps):
        m = _STEP.fullmatch(raw.strip())
        if not m:
            return TraceCheck(False, i, f"step {raw.strip()!r} is not 'create|close x y g h'")
        if goal in closed:
            return TraceCheck(False, i, "step after the goal was closed")
        kind, x, y, g, h = m.group(1), *(int(v) for v in m.groups()[1:])
        p = (x, y)
        want_h = manhattan(p, goal)
        if kind == "create":
            if not grid.inside(p):
                return TraceCheck(False, i, f"created cell {x} {y} is outside the grid")
            if not grid.free(p):
                return TraceCheck(False, i, f"created cell {x} {y} is a wall")
            if last is None:
                if p != start or open_g:
                    return TraceCheck(False, i, f"the first step must create the start {start[0]} {start[1]}")
                want_g = 0
            else:
                if manhattan(p, last) != 1:
                    return TraceCheck(
                        False,
                        i,
                        f"created cell {x} {y} is not a neighbour of the last closed {last[0]} {last[1]}",
                    )
                want_g = last_g + 1
            if p in closed:
                return TraceCheck(False, i, f"created cell {x} {y} is already closed")
            if g != want_g:
                return TraceCheck(False, i, f"wrong g for {x} {y}: {g}, expected {want_g}")
            if h != want_h:
                return TraceCheck(False, i, f"wrong h for {x} {y}: {h}, expected {want_h}")
            if p in open_g and open_g[p] <= g:
                return TraceCheck(False, i, f"cell {x} {y} is already open with g {open_g[p]} <= {g}")
            open_g[p] = g
            pending.discard(p)
            continue
        if p in closed:
            return TraceCheck(False, i, f"closed node {x} {y} is already closed")
        if p not in open_g:
            return TraceCheck(False, i, f"closed node {x} {y} is not open")
        if pending:
            q = min(pending, key=lambda c: (c[1], c[0]))
            return TraceCheck(
                False, i, f"expansion of {last[0]} {last[1]} did not create its neighbour {q[0]} {q[1]}"
            )
        if g != open_g[p]:
            return TraceCheck(False, i, f"wrong g for {x} {y}: {g}, it is open with g {open_g[p]}")
        if h != want_h:
            return TraceCheck(False, i, f"wrong h for {x} {y}: {h}, expected {want_h}")
        best = min(open_g, key=lambda c: (open_g[c] + manhattan(c, goal), c[1], c[0]))
        best_f = open_g[best] + manhattan(best, goal)
        if g + h > best_f:
            return TraceCheck(
                False,
                i,
                f"closed {x} {y} with f {g + h} while {best[0]} {best[1]} is open with lower f {best_f}",
            )
        del open_g[p]
        closed.add(p)
        last, last_g = p, g
        pending = {q for q in grid.neighbours(p) if q not in closed and open_g.get(q, g + 2) > g + 1}
        if p == goal:
            pending = set()
    if goal not in closed:
        return TraceCheck(False, len(steps), "trace ends before the goal is closed")
    return TraceCheck(True)
