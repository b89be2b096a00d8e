"""``forking``: keep or rank by a forking-token statistic of the trace (CLAIMS.md C1, arXiv 2506.01939).

``column`` is one of the profile's per-example statistics:

- ``entropy_mass_trace``: the sum of the student's token entropy H over the trace tokens;
- ``forking_share_trace``: the share of trace tokens that are forking (H >= tau, the top rho = 20% of the
  pool; profile forking.parquet ``forking_trace`` / trace token count);
- ``top20_entropy_mass``: the share of the example's total entropy in its 20% highest-entropy tokens.

Keeps ``min <= value <= max`` (either bound optional), then, if ``top_fraction`` is set, the best
``ceil(top_fraction * n)`` of those, best = highest (``descending: true``, the default: more forks, more
decisions to learn) or lowest, ties by id ascending. With neither bound nor fraction it keeps every record
with a value and only ranks them (``<column>_rank``, for a later ``budget`` with ``score``). That forking
tokens carry the RL signal is C1's claim; that they mark the examples SFT learns most from is a hypothesis
this stage lets one test against the ``random`` baseline. A null value is dropped, saying so.
"""

from __future__ import annotations

import random
from typing import Any

from reasonsift.select.base import Decision, Stage, register
from reasonsift.select.values import choice, fmt, is_null, number, rank, top_count

COLUMNS = ("entropy_mass_trace", "forking_share_trace", "top20_entropy_mass")


@register
class Forking(Stage):
    name = "forking"
    needs = ("forking_share_trace",)

    def __init__(
        self,
        column: str = "forking_share_trace",
        min: float | None = None,  # (shadows the builtin: the name recipes use)
        max: float | None = None,
        top_fraction: float | None = None,
        descending: bool = True,
        **params: Any,
    ) -> None:
        super().__init__(**params)
        self.column = choice(self.name, "column", column, COLUMNS)
        self.needs = (self.column,)
        self.min = None if min is None else number(self.name, "min", min)
        self.max = None if max is None else number(self.name, "max", max)
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"{self.name}: min {self.min} > max {self.max}")
        self.top_fraction = (
            None if top_fraction is None else number(self.name, "top_fraction", top_fraction, 0, 1)
        )
        if self.top_fraction == 0:
            raise ValueError(f"{self.name}: top_fraction must be > 0")
        if not isinstance(descending, bool):
            raise ValueError(f"{self.name}: descending must be true or false, got {descending!r}")
        self.descending = descending

    def run(self, records: list[dict], rng: random.Random) -> list[Decision]:
        c, rk = self.column, f"{self.column}_rank"
        out: list[Decision | None] = [None] * len(records)
        ok: list[int] = []
        for i, r in enumerate(records):
            v = r.get(c)
            if is_null(v):
                out[i] = Decision(False, f"{c} null (not computed)", {c: None, rk: None})
            elif self.min is not None and v < self.min:
                out[i] = Decision(False, f"{c} {fmt(float(v))} < min {fmt(self.min)}", {c: v, rk: None})
            elif self.max is not None and v > self.max:
                out[i] = Decision(False, f"{c} {fmt(float(v))} > max {fmt(self.max)}", {c: v, rk: None})
            else:
                ok.append(i)
        order = rank([records[i]["id"] for i in ok], [float(records[i][c]) for i in ok], self.descending)
        k = len(ok) if self.top_fraction is None else top_count(self.top_fraction, len(ok))
        side = "highest" if self.descending else "lowest"
        bounds = _bounds(self.min, self.max)
        for pos, j in enumerate(order):
            i = ok[j]
            v = float(records[i][c])
            why = f"{c} {fmt(v)}{bounds}, rank {pos + 1} of {len(ok)} ({side} first)"
            if self.top_fraction is not None:
                why += f": {'in' if pos < k else 'outside'} the top {fmt(self.top_fraction)} ({k})"
            out[i] = Decision(pos < k, why, {c: v, rk: pos + 1})
        return out  # type: ignore[return-value]


def _bounds(lo: float | None, hi: float | None) -> str:
    if lo is None and hi is None:
        return ""
    return f" in [{'-inf' if lo is None else fmt(lo)}, {'inf' if hi is None else fmt(hi)}]"
