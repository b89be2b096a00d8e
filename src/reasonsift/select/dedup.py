"""``dedup``: drop exact and near-duplicate questions, keeping the first in input order.

Exact: questions equal after normalisation (:func:`normalize`: Unicode casefold, every run of whitespace
collapsed to one space, ends stripped). Near: Jaccard similarity of the normalised questions' word
``shingle``-grams ``>= threshold``. Candidates come from MinHash LSH (``datasketch.MinHash`` /
``MinHashLSH``, ``num_perm`` permutations, seeded), and each candidate's Jaccard is then computed exactly on
the shingle sets, so LSH only decides which pairs are compared: it never drops a pair below the threshold.
To make misses rare the index is built at ``threshold - LSH_MARGIN`` with false negatives weighted 9:1
(``weights=(0.1, 0.9)``): at ``threshold=0.8``, ``num_perm=128`` a pair of Jaccard 0.8 becomes a candidate
with probability 0.998 (1 - (1 - s^r)^b, b=21 bands of r=6), one of 0.3 with 0.015.

Order: records are visited in input order and compared only with the records kept so far; a duplicate is
dropped naming the earliest kept record it duplicates. Chains do not propagate: if B duplicates A and is
dropped, C is compared with A, not B.
"""

from __future__ import annotations

import random
import re

from reasonsift.select.base import Decision, Stage, register
from reasonsift.select.values import fmt, integer, number

_WS = re.compile(r"\s+")
LSH_MARGIN = 0.15  # the LSH index's threshold sits this far below the exact Jaccard cut (see module doc)


def normalize(text: str) -> str:
    """Casefold, collapse whitespace runs to one space, strip: ``" What  IS\\n2+2? "`` -> ``"what is 2+2?"``."""
    return _WS.sub(" ", text.casefold()).strip()


def shingles(text: str, k: int) -> set[str]:
    """Word ``k``-grams of normalised text; a text of fewer than ``k`` words is one shingle (itself)."""
    words = normalize(text).split(" ")
    if len(words) <= k:
        return {" ".join(words)}
    return {" ".join(words[i : i + k]) for i in range(len(words) - k + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


@register
class Dedup(Stage):
    name = "dedup"

    def __init__(
        self,
        threshold: float = 0.8,  # Jaccard of word 3-grams; 0.8 is the usual near-duplicate cut (datatrove, SlimPajama)
        num_perm: int = 128,  # datasketch's default; more permutations, fewer LSH misses near the threshold
        shingle: int = 3,
        seed: int = 1,  # datasketch's default MinHash seed
        field: str = "question",
        **params,
    ) -> None:
        super().__init__(**params)
        self.threshold = number(self.name, "threshold", threshold, 0.0, 1.0)
        if self.threshold == 0.0:
            raise ValueError(f"{self.name}: threshold must be > 0 (0 would make every pair a duplicate)")
        self.num_perm = integer(self.name, "num_perm", num_perm, lo=2)
        self.shingle = integer(self.name, "shingle", shingle, lo=1)
        self.seed = integer(self.name, "seed", seed)
        if not isinstance(field, str) or not field:
            raise ValueError(f"{self.name}: field must be a record column name, got {field!r}")
        self.field = field

    def run(self, records: list[dict], rng: random.Random) -> list[Decision]:
        from datasketch import MinHash, MinHashLSH

        lsh_threshold = max(0.05, self.threshold - LSH_MARGIN)
        lsh = MinHashLSH(threshold=lsh_threshold, num_perm=self.num_perm, weights=(0.1, 0.9))
        texts = [rec.get(self.field) or "" for rec in records]
        sets = [shingles(t, self.shingle) for t in texts]
        # One bulk call shares the seeded permutations (constructing a MinHash per record redraws them).
        hashes = MinHash.bulk(
            [[s.encode("utf-8") for s in sh] for sh in sets], num_perm=self.num_perm, seed=self.seed
        )
        first_exact: dict[str, int] = {}
        kept_shingles: dict[int, set[str]] = {}
        out: list[Decision] = []
        for i, text in enumerate(texts):
            norm = normalize(text)
            if norm in first_exact:
                j = first_exact[norm]
                out.append(self._dup(records[j]["id"], "exact", 1.0))
                continue
            sh, m = sets[i], hashes[i]
            best: tuple[int, float] | None = None
            for key in lsh.query(m):
                j = int(key)
                jac = jaccard(sh, kept_shingles[j])
                if jac >= self.threshold and (best is None or j < best[0]):
                    best = (j, jac)
            if best is not None:
                out.append(self._dup(records[best[0]]["id"], "near", best[1]))
                continue
            first_exact[norm] = i
            kept_shingles[i] = sh
            lsh.insert(str(i), m)
            out.append(
                Decision(
                    True,
                    f"no earlier duplicate {self.field} (exact or Jaccard >= {fmt(self.threshold)})",
                    {"dup_of": None, "dup_kind": None, "dup_jaccard": None},
                )
            )
        return out

    def _dup(self, of: str, kind: str, jac: float) -> Decision:
        why = (
            f"exact duplicate {self.field} of {of}"
            if kind == "exact"
            else f"near duplicate {self.field} of {of} (Jaccard {fmt(jac)} >= {fmt(self.threshold)})"
        )
        return Decision(False, why, {"dup_of": of, "dup_kind": kind, "dup_jaccard": jac})
