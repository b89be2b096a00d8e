"""``ifd``: Instruction-Following Difficulty, as in Cherry LLM (arXiv 2308.12032) and CLAIMS.md C7.

IFD = s(A|Q) / s(A) (profile column ``ifd``). IFD >= 1 means the question does not help the student predict
the answer, so the pair teaches nothing about following it: dropped (``max_ifd``, default 1.0; Cherry LLM
drops IFD > 1, the same cut up to a float equal to 1). A null IFD (not computed: ``--no-ifd``, a cut
question, over the context) is dropped, saying so. Of the rest, the top ``fraction`` by IFD is kept
(default 0.1: Cherry LLM's 10% of Alpaca; 5% is its other setting), ``ceil(fraction * n)`` records, ties
broken by id ascending.

``column: r_ifd`` ranks by r-IFD = PPL(Q|A) / PPL(Q) (Selective Reflection-Tuning, arXiv 2402.10110) instead:
lower is better (the answer lets the student recover the question), so the lowest ``fraction`` is kept; the
``max_ifd`` cut applies to it too (C7 keeps a refined pair only when its r-IFDs are < 1).
"""

from __future__ import annotations

import random
from typing import Any

from reasonsift.select.base import Decision, Stage, register
from reasonsift.select.values import choice, fmt, is_null, number, rank, top_count

COLUMNS = ("ifd", "r_ifd")


@register
class IFD(Stage):
    name = "ifd"
    needs = ("ifd",)

    def __init__(
        self,
        column: str = "ifd",
        max_ifd: float = 1.0,  # Cherry LLM (arXiv 2308.12032): IFD > 1 means the question does not help
        fraction: float = 0.1,  # Cherry LLM keeps the top 5-10% of Alpaca by IFD
        **params: Any,
    ) -> None:
        super().__init__(**params)
        self.column = choice(self.name, "column", column, COLUMNS)
        self.needs = (self.column,)
        self.max_ifd = number(self.name, "max_ifd", max_ifd, 0.0)
        self.fraction = number(self.name, "fraction", fraction, 0.0, 1.0)
        if self.fraction == 0.0:
            raise ValueError(f"{self.name}: fraction must be > 0")
        self.descending = self.column == "ifd"  # higher IFD is better; lower r-IFD is better

    def run(self, records: list[dict], rng: random.Random) -> list[Decision]:
        c = self.column
        out: list[Decision | None] = [None] * len(records)
        ok: list[int] = []
        for i, r in enumerate(records):
            v = r.get(c)
            if is_null(v):
                out[i] = Decision(False, f"{c} null (not computed)", {c: None, f"{c}_rank": None})
            elif v >= self.max_ifd:
                out[i] = Decision(
                    False, f"{c} {fmt(float(v))} >= {fmt(self.max_ifd)}", {c: v, f"{c}_rank": None}
                )
            else:
                ok.append(i)
        order = rank([records[i]["id"] for i in ok], [float(records[i][c]) for i in ok], self.descending)
        k = top_count(self.fraction, len(ok))
        side = "top" if self.descending else "lowest"
        for pos, j in enumerate(order):
            i = ok[j]
            v = float(records[i][c])
            where = f"{c} {fmt(v)}, rank {pos + 1} of {len(ok)} below {fmt(self.max_ifd)}"
            if pos < k:
                why = f"{where}: in the {side} {fmt(self.fraction)} ({k})"
            else:
                why = f"{where}: outside the {side} {fmt(self.fraction)} ({k})"
            out[i] = Decision(pos < k, why, {c: v, f"{c}_rank": pos + 1})
        return out  # type: ignore[return-value]
