"""``arith``: multi-step integer add/subtract chains; each step records one intermediate result.

Trace form (compact, character-level friendly): ``27-40=-13;-13+88=75;75-10=65``; answer ``65``.
Difficulty d: operands of ``1 + (d+1)//2`` digits (2 digits at d=1,2), ``2 + d`` to ``3 + d`` terms.
OOD: two more terms than the same difficulty's longest training chain.
"""

from __future__ import annotations

import random
import re

from reasonsift.data.example import Example
from reasonsift.tasks.base import BuiltinTask, Item, TraceCheck
from reasonsift.tasks.outcome import WRONG, Outcome, final_answer, no_answer

_STEP = re.compile(r"^(-?\d+)([+-])(\d+)=(-?\d+)$")


def _parse_int(s: str) -> int | None:
    s = s.strip().lstrip("#").strip()
    return int(s) if re.fullmatch(r"-?\d+", s) else None


def verify_arith(completion: str, example: Example) -> Outcome:
    """The final answer is the integer result (a leading ``#`` is ignored).

    >>> ex = Example("a", "2+3", "5")
    >>> [verify_arith(c, ex).state for c in ("<think>2+3=5</think>5", "#5", "6", "five", "<think>2+3=5")]
    ['correct', 'correct', 'wrong', 'wrong', 'no_answer']
    """
    got = final_answer(completion)
    if not got:
        return no_answer(completion)
    value = _parse_int(got)
    if value is None:
        return Outcome(WRONG, 0.0, got, "not an integer")
    return Outcome.judged(value == int(example.meta.get("answer_text", example.answer)), str(value))


class Arith(BuiltinTask):
    name = "arith"
    domain = "math"

    def terms_range(self, difficulty: int, split: str) -> tuple[int, int]:
        lo, hi = 2 + difficulty, 3 + difficulty
        return (hi + 1, hi + 2) if split == "ood" else (lo, hi)

    def make(self, rng: random.Random, difficulty: int, split: str) -> Item:
        digits = 1 + (difficulty + 1) // 2
        lo_v, hi_v = 10 ** (digits - 1), 10**digits - 1
        n_terms = rng.randint(*self.terms_range(difficulty, split))
        nums = [rng.randint(lo_v, hi_v) for _ in range(n_terms)]
        ops = [rng.choice("+-") for _ in range(n_terms - 1)]
        question = str(nums[0]) + "".join(f"{o}{v}" for o, v in zip(ops, nums[1:], strict=True))
        acc, steps = nums[0], []
        for o, v in zip(ops, nums[1:], strict=True):
            new = acc + v if o == "+" else acc - v
            steps.append(f"{acc}{o}{v}={new}")
            acc = new
        return Item(question=question, trace=";".join(steps), answer=str(acc), meta={"n_terms": n_terms})

    def verify_free(self, completion: str, example: Example) -> Outcome:
        return verify_arith(completion, example)

    def distractors(self, rng: random.Random, item: Item, k: int) -> list[str]:
        # Plausible slips: off by a carry (±1, ±10), a dropped sign, a skipped last step.
        ans = int(item.answer)
        steps = item.trace.split(";")
        cands = [ans + 1, ans - 1, ans + 10, ans - 10, -ans, ans + 100, ans - 100]
        if len(steps) >= 2:
            cands.append(int(steps[-2].split("=")[1]))
        out: list[str] = []
        rng.shuffle(cands)
        for c in cands:
            if c != ans and str(c) not in out:
                out.append(str(c))
            if len(out) == k:
                break
        return out

    def validate_trace(self, example: Example, trace: str) -> TraceCheck:
        q = example.question.strip()
        toks = re.findall(r"\d+|[+-]", q)
        try:
            nums = [int(toks[0])] + [int(t) for t in toks[2::2]]
            ops = toks[1::2]
        except (ValueError, IndexError):
            return TraceCheck(False, None, "question is not an add/subtract chain")
        steps = [s for s in trace.split(";") if s.strip()]
        if len(steps) != len(ops):
            return TraceCheck(
                False, min(len(steps), len(ops)), f"expected {len(ops)} steps, got {len(steps)}"
            )
        acc = nums[0]
        for i, (s, o, v) in enumerate(zip(steps, ops, nums[1:], strict=True)):
            m = _STEP.match(s.strip())
            if not m:
                return TraceCheck(False, i, f"step {s!r} is not of the form a+b=c or a-b=c")
            a, so, b, c = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
            if a != acc:
                return TraceCheck(False, i, f"step starts from {a}, previous result was {acc}")
            if so != o or b != v:
                return TraceCheck(False, i, f"step applies {so}{b}, question has {o}{v}")
            want = a + b if so == "+" else a - b
            if c != want:
                return TraceCheck(False, i, f"{a}{so}{b} is {want}, not {c}")
            acc = c
        return TraceCheck(True)
