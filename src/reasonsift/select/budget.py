"""``budget``: fill to ``n`` examples and/or ``tokens`` T, best first; deterministic for a seed.

Order: by the column ``score`` (highest first; ``descending: false`` for lower-is-better scores such as
``r_ifd``), records with a null score after all scored ones. Ties, and the whole order when no ``score`` is
given, are broken by a seeded shuffle: the records sorted by id (then input position, for repeated ids) are
shuffled with the stage's rng (``seed`` if given, else the pipeline's), so the order depends on the seed and
the ids, never on the input order. Without ``score`` the budget is therefore a uniform random subset.

Filling walks that order and keeps a record while fewer than ``n`` are kept and its tokens fit in what is
left of T (first fit: a record that does not fit is skipped and smaller ones after it may still fill the
rest). Tokens of a record: its ``n_tokens`` column (the profile's scored tokens) when present and not null,
else ``ceil(len(question + trace + answer) / 4)`` characters (about 4 characters a token for English BPE).
"""

from __future__ import annotations

import math
import random
from typing import Any

from reasonsift.select.base import Decision, Stage, register
from reasonsift.select.values import fmt, integer, is_null

CHARS_PER_TOKEN = 4


def record_tokens(r: dict) -> int:
    """``n_tokens`` if present, else characters / 4 (rounded up) of question, trace and answer."""
    t = r.get("n_tokens")
    if not is_null(t):
        return int(t)
    chars = sum(len(r.get(k) or "") for k in ("question", "trace", "answer"))
    return math.ceil(chars / CHARS_PER_TOKEN)


def tie_order(records: list[dict], rng: random.Random) -> list[int]:
    """Each record's tie-break position: a shuffle (by ``rng``) of the records sorted by id."""
    by_id = sorted(range(len(records)), key=lambda i: (str(records[i].get("id")), i))
    rng.shuffle(by_id)
    pos = [0] * len(records)
    for p, i in enumerate(by_id):
        pos[i] = p
    return pos


@register
class Budget(Stage):
    name = "budget"

    def __init__(
        self,
        n: int | None = None,
        tokens: int | None = None,
        score: str | None = None,
        descending: bool = True,
        seed: int | None = None,
        **params: Any,
    ) -> None:
        super().__init__(**params)
        if n is None and tokens is None:
            raise ValueError(f"{self.name}: n or tokens is required (a number of examples or of tokens)")
        self.n = None if n is None else integer(self.name, "n", n, lo=1)
        self.tokens = None if tokens is None else integer(self.name, "tokens", tokens, lo=1)
        if score is not None and (not isinstance(score, str) or not score):
            raise ValueError(f"{self.name}: score must be a column name, got {score!r}")
        self.score = score
        if score is not None:
            self.needs = (score,)
        if not isinstance(descending, bool):
            raise ValueError(f"{self.name}: descending must be true or false, got {descending!r}")
        self.descending = descending
        self.seed = None if seed is None else integer(self.name, "seed", seed)

    def run(self, records: list[dict], rng: random.Random) -> list[Decision]:
        tie = tie_order(records, rng if self.seed is None else random.Random(self.seed))
        sign = -1.0 if self.descending else 1.0

        def key(i: int) -> tuple:
            if self.score is None:
                return (0, 0.0, tie[i])
            v = records[i].get(self.score)
            return (1, 0.0, tie[i]) if is_null(v) else (0, sign * float(v), tie[i])

        order = sorted(range(len(records)), key=key)
        out: list[Decision | None] = [None] * len(records)
        kept = used = 0
        by = (
            "seeded shuffle"
            if self.score is None
            else f"{self.score} ({'high' if self.descending else 'low'} first)"
        )
        for pos, i in enumerate(order):
            t = record_tokens(records[i])
            cols = {"budget_rank": pos + 1, "budget_tokens": t}
            head = f"rank {pos + 1} of {len(records)} by {by}"
            if self.score is not None:
                v = records[i].get(self.score)
                head += f", {self.score} {'null' if is_null(v) else fmt(v)}"
            if self.n is not None and kept >= self.n:
                out[i] = Decision(False, f"{head}: budget full ({self.n} examples)", cols)
            elif self.tokens is not None and used + t > self.tokens:
                out[i] = Decision(False, f"{head}: {t} tokens do not fit in {self.tokens - used} left", cols)
            else:
                kept, used = kept + 1, used + t
                out[i] = Decision(True, f"{head}: within budget ({self._fill(kept, used)})", cols)
        return out  # type: ignore[return-value]

    def _fill(self, kept: int, used: int) -> str:
        parts = []
        if self.n is not None:
            parts.append(f"{kept}/{self.n} examples")
        parts.append(f"{used}/{self.tokens} tokens" if self.tokens is not None else f"{used} tokens")
        return ", ".join(parts)
