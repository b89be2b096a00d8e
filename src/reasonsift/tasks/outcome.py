"""What a verifier returns: :class:`Outcome` (a state, a score in [0, 1], the extracted answer, why).

Every verifier is a plain function ``(completion, example) -> Outcome``. The state keeps apart what a bare
score would mix up: a verifier that crashed (``error``) or hung (``timeout``) says nothing about the model,
so it must never be counted as a ``wrong`` answer; a reply with no final answer (``no_answer``: empty, or a
``<think>`` never closed) is a different failure from a wrong one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from reasonsift.data.render import THINK_CLOSE, THINK_OPEN

CORRECT, WRONG, NO_ANSWER, TIMEOUT, ERROR = "correct", "wrong", "no_answer", "timeout", "error"
STATES = (CORRECT, WRONG, NO_ANSWER, TIMEOUT, ERROR)
VERIFIER_FAILURES = (TIMEOUT, ERROR)  # the verifier failed, not the model: never a wrong answer


@dataclass(frozen=True)
class Outcome:
    """One verified completion. ``score`` is 1.0 iff ``state == "correct"``; below 1 it may be partial credit
    (a ``wrong`` reasoning-gym answer); it is 0.0 for ``no_answer``, ``timeout`` and ``error``.

    >>> Outcome(CORRECT, 1.0, "7").correct
    True
    >>> Outcome(TIMEOUT, detail="exceeded 5 s").correct
    False
    """

    state: str
    score: float = 0.0
    extracted: str | None = None
    detail: str = ""

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"state: unknown {self.state!r}; expected one of {', '.join(STATES)}")
        if not (isinstance(self.score, (int, float)) and 0.0 <= self.score <= 1.0):
            raise ValueError(f"score: expected a number in [0, 1], got {self.score!r}")
        if (self.state == CORRECT) != (self.score == 1.0) and self.state in (CORRECT, WRONG):
            raise ValueError(f"score: {self.score} contradicts state {self.state!r} (1.0 iff correct)")
        if self.state in (NO_ANSWER, TIMEOUT, ERROR) and self.score != 0.0:
            raise ValueError(f"score: a {self.state!r} outcome scores 0.0, got {self.score}")

    @property
    def correct(self) -> bool:
        return self.state == CORRECT

    @classmethod
    def judged(cls, ok: bool, extracted: str, detail: str = "") -> Outcome:
        """``correct`` or ``wrong`` for an answer that was extracted and checked."""
        return cls(CORRECT if ok else WRONG, 1.0 if ok else 0.0, extracted, detail)

    @classmethod
    def from_score(cls, score: float, extracted: str, detail: str = "") -> Outcome:
        """``correct`` iff ``score == 1.0`` (partial credit stays ``wrong``); a score that is not a number in
        [0, 1] is the verifier's ``error``, not the model's."""
        try:
            s = float(score)
        except (TypeError, ValueError):
            return cls(ERROR, 0.0, extracted, f"verifier returned {score!r}, not a number")
        if math.isnan(s) or not 0.0 <= s <= 1.0:
            return cls(ERROR, 0.0, extracted, f"verifier returned {score!r}, not a score in [0, 1]")
        return cls(CORRECT if s == 1.0 else WRONG, s, extracted, detail)


def final_answer(completion: str) -> str:
    """The answer part of a reply: after the last ``</think>``; empty if a ``<think>`` was never closed.

    >>> final_answer("<think>1+2=3</think>3")
    '3'
    >>> final_answer("<think>1+2=3")
    ''
    >>> final_answer(" 7 ")
    '7'
    """
    if THINK_CLOSE in completion:
        return completion.rsplit(THINK_CLOSE, 1)[1].strip()
    if THINK_OPEN in completion:
        return ""
    return completion.strip()


def no_answer(completion: str) -> Outcome:
    return Outcome(NO_ANSWER, 0.0, "", "unclosed <think>" if THINK_OPEN in completion else "empty answer")


__all__ = [
    "CORRECT",
    "ERROR",
    "NO_ANSWER",
    "STATES",
    "TIMEOUT",
    "VERIFIER_FAILURES",
    "WRONG",
    "Outcome",
    "final_answer",
    "no_answer",
]
