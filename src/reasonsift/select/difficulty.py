"""``difficulty``: keep what the student does not already solve, from an eval run's per-question columns.

Modes (``mode``):

- ``s1`` (arXiv 2501.19393): drop what the student solves: ``solve_rate >= max_solve_rate``. s1 drops a
  question that Qwen2.5-7B- or 32B-Instruct answers correctly in one attempt; with a greedy eval (n = 1) the
  solve rate is 0 or 1, and the default ``max_solve_rate: 1.0`` drops exactly the solved ones. With n > 1
  samples the default drops only what is solved every time; lower it to drop what is solved often.
- ``limo`` (arXiv 2502.03387): keep ``min_correct <= correct <= max_correct`` (defaults 1 and 3): problems
  a strong model solves only 1-3 times in 32 attempts. The counts mean that only for n = 32 samples per
  question (``reasonsift eval --n 32``); the reason reports ``correct/n`` so another n shows.
- ``band``: keep ``lo <= solve_rate <= hi`` (defaults 0 and 1).

A record with no eval result (null column: the question was not in the eval run) is dropped, saying so.
"""

from __future__ import annotations

import random
from typing import Any

from reasonsift.select.base import Decision, Stage, register
from reasonsift.select.values import choice, fmt, integer, is_null, number

MODES = ("s1", "limo", "band")
_PARAMS = {"s1": ("max_solve_rate",), "limo": ("min_correct", "max_correct"), "band": ("lo", "hi")}


@register
class Difficulty(Stage):
    name = "difficulty"
    needs = ("solve_rate",)

    def __init__(
        self,
        mode: str = "s1",
        max_solve_rate: float | None = None,
        min_correct: int | None = None,
        max_correct: int | None = None,
        lo: float | None = None,
        hi: float | None = None,
        **params: Any,
    ) -> None:
        super().__init__(**params)
        self.mode = choice(self.name, "mode", mode, MODES)
        given = {"max_solve_rate": max_solve_rate, "min_correct": min_correct, "max_correct": max_correct}
        given |= {"lo": lo, "hi": hi}
        for k, v in given.items():
            if v is not None and k not in _PARAMS[mode]:
                raise ValueError(f"{self.name}: {k} applies to mode {_mode_of(k)}, not {mode}")
        if mode == "s1":
            self.max_solve_rate = number(self.name, "max_solve_rate", _d(max_solve_rate, 1.0), 0.0, 1.0)
        elif mode == "limo":
            self.needs = ("correct", "n")
            self.min_correct = integer(self.name, "min_correct", _d(min_correct, 1))
            self.max_correct = integer(self.name, "max_correct", _d(max_correct, 3))
            if self.min_correct > self.max_correct:
                raise ValueError(f"{self.name}: min_correct {min_correct} > max_correct {max_correct}")
        else:
            self.lo = number(self.name, "lo", _d(lo, 0.0), 0.0, 1.0)
            self.hi = number(self.name, "hi", _d(hi, 1.0), 0.0, 1.0)
            if self.lo > self.hi:
                raise ValueError(f"{self.name}: lo {self.lo} > hi {self.hi}")

    def run(self, records: list[dict], rng: random.Random) -> list[Decision]:
        return [self._one(r) for r in records]

    def _one(self, r: dict) -> Decision:
        if self.mode == "limo":
            c, n = r.get("correct"), r.get("n")
            cols = {"difficulty_correct": c, "difficulty_n": n}
            if is_null(c) or is_null(n):
                return Decision(False, "no eval result (correct/n null: question not in the eval run)", cols)
            c, n = int(c), int(n)
            inside = self.min_correct <= c <= self.max_correct
            rel = "in" if inside else "outside"
            why = f"correct {c}/{n} {rel} [{self.min_correct}, {self.max_correct}]"
            return Decision(inside, why, cols)
        s = r.get("solve_rate")
        cols = {"difficulty_solve_rate": s}
        if is_null(s):
            return Decision(False, "no eval result (solve_rate null: question not in the eval run)", cols)
        if self.mode == "s1":
            if s >= self.max_solve_rate:
                return Decision(False, f"solve rate {s:.2f} >= {fmt(self.max_solve_rate)}", cols)
            return Decision(True, f"solve rate {s:.2f} < {fmt(self.max_solve_rate)}", cols)
        inside = self.lo <= s <= self.hi
        why = f"solve rate {s:.2f} {'in' if inside else 'outside'} [{fmt(self.lo)}, {fmt(self.hi)}]"
        return Decision(inside, why, cols)


def _d(v: Any, default: Any) -> Any:
    return default if v is None else v


def _mode_of(param: str) -> str:
    return next(m for m, ps in _PARAMS.items() if param in ps)
