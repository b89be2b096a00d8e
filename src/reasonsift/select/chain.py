"""Stage "chain": rule features of a reasoning chain and a weighted score, after LIMO (arXiv 2502.03387).

LIMO ranks candidate chains by rule features (elaborated reasoning, self-verification, exploration,
connectives) but its scoring code is unreleased, so the phrase lists, the counting and the score here are
ours. All features read the ``trace`` only (the final answer is not part of the chain):

- ``elaboration``: words in the trace (whitespace-separated).
- ``self_verification``: occurrences of :data:`SELF_VERIFICATION`.
- ``exploration``: occurrences of :data:`EXPLORATION`.
- ``connective_density``: occurrences of :data:`CONNECTIVES` per 100 words (0 for an empty trace).

A phrase occurrence is counted case-insensitively, as a whole word (not inside a longer word or a hyphenated
one), non-overlapping, longest phrase first: "let me double-check" counts once, not also as "check".

Score: each feature is rank-normalised over the records the stage sees (average rank of ties, 0 = lowest,
divided by N - 1; 0.5 when N = 1), then ``score = sum_f w_f * pct_f / sum_f w_f``. Default weights 0.3, 0.2,
0.25, 0.25 follow the split we recall from LIMO's revised paper (elaboration 30%, self-verification 20%,
exploration 25%, granularity via connectives 25%); they are a recipe parameter. ``fraction`` keeps the top
``ceil(fraction * N)`` by score (ties: lower id first); ``fraction: null`` only scores and keeps all.
"""

from __future__ import annotations

import math
import random
import re
from typing import Any

from reasonsift.select.base import Decision, Stage, register

SELF_VERIFICATION = (
    "let me double-check", "double-check", "double check", "sanity check",
    "check", "checks", "checked", "checking",
    "verify", "verifies", "verified", "verifying", "verification",
    "confirm", "confirms", "confirmed", "wait",
)  # fmt: skip
EXPLORATION = (
    "alternatively", "another approach", "another way", "a different approach", "on the other hand",
    "what if", "suppose", "let's try", "let me try", "instead", "perhaps", "maybe",
)  # fmt: skip
CONNECTIVES = (
    "so", "therefore", "because", "thus", "then", "hence", "since", "consequently", "which means",
    "it follows that",
)  # fmt: skip
FEATURES = ("elaboration", "self_verification", "exploration", "connective_density")
DEFAULT_WEIGHTS = {
    "elaboration": 0.3,
    "self_verification": 0.2,
    "exploration": 0.25,
    "connective_density": 0.25,
}


def phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for whole-word, case-insensitive, longest-first, non-overlapping phrase matches."""
    alts = sorted(phrases, key=len, reverse=True)
    body = "|".join(r"\s+".join(re.escape(w) for w in p.split()) for p in alts)
    return re.compile(rf"(?<![\w'-])(?:{body})(?![\w'-])", re.IGNORECASE)


_PATTERNS = {
    "self_verification": phrase_pattern(SELF_VERIFICATION),
    "exploration": phrase_pattern(EXPLORATION),
    "connectives": phrase_pattern(CONNECTIVES),
}


def chain_features(trace: str) -> dict[str, float]:
    """The four rule features of one trace (see the module docstring)."""
    words = len(trace.split())
    conn = len(_PATTERNS["connectives"].findall(trace))
    return {
        "elaboration": words,
        "self_verification": len(_PATTERNS["self_verification"].findall(trace)),
        "exploration": len(_PATTERNS["exploration"].findall(trace)),
        "connective_density": 100.0 * conn / words if words else 0.0,
    }


def percentile_ranks(values: list[float]) -> list[float]:
    """Average rank of each value (ties share it), 0 = lowest, scaled to [0, 1]; 0.5 for a single value."""
    n = len(values)
    if n == 1:
        return [0.5]
    order = sorted(range(n), key=lambda i: values[i])
    ranks = [0.0] * n
    k = 0
    while k < n:
        j = k
        while j + 1 < n and values[order[j + 1]] == values[order[k]]:
            j += 1
        for m in range(k, j + 1):
            ranks[order[m]] = (k + j) / 2 / (n - 1)
        k = j + 1
    return ranks


@register
class Chain(Stage):
    name = "chain"

    def __init__(self, fraction: float | None = None, weights: dict[str, float] | None = None, **params: Any):
        super().__init__(**params)
        if fraction is not None and not (isinstance(fraction, int | float) and 0 < fraction <= 1):
            raise ValueError(f"fraction: expected a number in (0, 1] or null, got {fraction!r}")
        w = dict(DEFAULT_WEIGHTS if weights is None else weights)
        unknown = set(w) - set(FEATURES)
        if unknown:
            raise ValueError(f"weights: unknown feature(s) {sorted(unknown)}; known: {', '.join(FEATURES)}")
        if any(not isinstance(v, int | float) or v < 0 or not math.isfinite(v) for v in w.values()):
            raise ValueError(f"weights: expected finite numbers >= 0, got {w}")
        if sum(w.values()) <= 0:
            raise ValueError("weights: at least one weight must be > 0")
        self.fraction, self.weights = fraction, {f: float(w.get(f, 0.0)) for f in FEATURES}

    def scores(self, records: list[dict]) -> tuple[list[dict[str, float]], list[float]]:
        """Per record its features and its weighted, rank-normalised score."""
        feats = [chain_features(r.get("trace") or "") for r in records]
        if not records:
            return feats, []
        pct = {f: percentile_ranks([x[f] for x in feats]) for f in FEATURES}
        total = sum(self.weights.values())
        score = [sum(self.weights[f] * pct[f][i] for f in FEATURES) / total for i in range(len(records))]
        return feats, score

    def run(self, records: list[dict], rng: random.Random) -> list[Decision]:
        feats, score = self.scores(records)
        n = len(records)
        order = sorted(range(n), key=lambda i: (-score[i], str(records[i]["id"])))
        place = {i: k for k, i in enumerate(order)}
        keep_n = n if self.fraction is None else math.ceil(self.fraction * n)
        out = []
        for i in range(n):
            cols = {**feats[i], "chain_score": score[i]}
            head = f"chain score {score[i]:.3f}, rank {place[i] + 1} of {n}"
            if self.fraction is None:
                out.append(Decision(True, f"{head} (scoring only)", cols))
            elif place[i] < keep_n:
                out.append(Decision(True, f"{head}: in the top {keep_n} (fraction {self.fraction})", cols))
            else:
                out.append(
                    Decision(False, f"{head}: below the top {keep_n} (fraction {self.fraction})", cols)
                )
        return out
