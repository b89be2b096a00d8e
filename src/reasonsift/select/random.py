"""``random``: ``n`` records uniformly at random, the baseline every selection must be compared with.

The draw is ``random.Random(seed).sample(range(len(records)), n)`` over the records in input order (``seed``
if given, else the pipeline's rng): reproducible outside reasonsift from the seed and the record order. Fewer
than ``n`` records keeps them all.
"""

from __future__ import annotations

import random
from typing import Any

from reasonsift.select.base import Decision, Stage, register
from reasonsift.select.values import integer


@register
class Random(Stage):
    name = "random"

    def __init__(self, n: int | None = None, seed: int | None = None, **params: Any) -> None:
        super().__init__(**params)
        if n is None:
            raise ValueError(f"{self.name}: n is required (the number of records to draw)")
        self.n = integer(self.name, "n", n, lo=1)
        self.seed = None if seed is None else integer(self.name, "seed", seed)

    def run(self, records: list[dict], rng: random.Random) -> list[Decision]:
        r = rng if self.seed is None else random.Random(self.seed)
        k = min(self.n, len(records))
        drawn = {i: p for p, i in enumerate(r.sample(range(len(records)), k))}
        seed = "pipeline seed" if self.seed is None else f"seed {self.seed}"
        out = []
        for i in range(len(records)):
            if i in drawn:
                why = f"drawn at random ({drawn[i] + 1} of {k} from {len(records)}, {seed})"
                out.append(Decision(True, why, {"random_draw": drawn[i] + 1}))
            else:
                why = f"not drawn ({k} of {len(records)} at random, {seed})"
                out.append(Decision(False, why, {"random_draw": None}))
        return out
