"""Stage "diversity": s1's domain-stratified sampling, or coverage of an embedding space.

``mode: s1`` (s1, arXiv 2501.19393, diversity step): until ``n`` records are picked, draw a domain uniformly at
random among the domains that still have records, then one record of that domain with probability
proportional to ``2^-rank``, rank 0 = the longest trace among the domain's records *still left* (ties by id).
Ranks are recomputed after every draw, as in s1's loop (a picked record leaves its domain's ranking).
A record with an empty ``domain`` belongs to the domain ``""``. ``n: null`` draws every record: all are kept
and ``diversity_pick`` is the full s1 order, for a later budget stage.

``mode: coverage``: ``n`` records that cover the records' embeddings (column ``embedding``, a list of floats,
e.g. from :func:`reasonsift.select.embed.mean_hidden_states`). ``method: kcenter`` (default) is greedy
farthest-point selection (Gonzalez 1985): the first pick is the record nearest the mean embedding, each next
pick the record farthest from those picked (Euclidean; ties by input order), deterministic. ``method: kmeans``
clusters into ``n`` clusters with scikit-learn's ``KMeans`` (one k-means++ start, seeded from the stage's rng) and keeps, per
cluster in index order, the not yet picked record nearest its centroid.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from reasonsift.select.base import Decision, Stage, register

MODES = ("s1", "coverage")
METHODS = ("kcenter", "kmeans")
LENGTHS = ("chars", "words", "n_tokens")


@register
class Diversity(Stage):
    name = "diversity"

    def __init__(
        self,
        mode: str = "s1",
        n: int | None = None,
        length: str = "chars",
        method: str = "kcenter",
        normalize: bool = False,
        **params: Any,
    ) -> None:
        super().__init__(**params)
        if mode not in MODES:
            raise ValueError(f"mode: expected one of {MODES}, got {mode!r}")
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
            raise ValueError(f"n: expected an integer >= 1 or null, got {n!r}")
        if mode == "coverage" and n is None:
            raise ValueError("n: mode coverage needs the number of records to pick")
        if length not in LENGTHS:
            raise ValueError(f"length: expected one of {LENGTHS}, got {length!r}")
        if method not in METHODS:
            raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
        self.mode, self.n, self.length, self.method, self.normalize = mode, n, length, method, bool(normalize)
        # s1 reads Example fields only (trace length by characters or words); n_tokens comes from a profile run.
        if mode == "coverage":
            self.needs = ("embedding",)
        elif length == "n_tokens":
            self.needs = ("n_tokens",)

    def run(self, records: list[dict], rng: random.Random) -> list[Decision]:
        if self.mode == "s1":
            return self._s1(records, rng)
        return self._coverage(records, rng)

    # -- s1 ------------------------------------------------------------------------------------------------
    def _len(self, r: dict) -> float:
        if self.length == "n_tokens":
            v = _number(r.get("n_tokens"))
            if v is None:
                raise ValueError(f"n_tokens: record {r.get('id')!r} has no token count (not profiled?)")
            return v
        trace = r.get("trace") or ""
        return float(len(trace.split()) if self.length == "words" else len(trace))

    def _s1(self, records: list[dict], rng: random.Random) -> list[Decision]:
        by_domain: dict[str, list[int]] = {}
        for i, r in enumerate(records):
            by_domain.setdefault(r.get("domain") or "", []).append(i)
        # Each domain's indices, longest trace first (ties by id): position in the list = rank.
        left = {
            d: sorted(ix, key=lambda i: (-self._len(records[i]), str(records[i]["id"])))
            for d, ix in by_domain.items()
        }
        first_rank = {i: k for ix in left.values() for k, i in enumerate(ix)}
        n = len(records) if self.n is None else min(self.n, len(records))
        picks: dict[
            int, tuple[int, int, int, int]
        ] = {}  # index -> (order, rank at draw, domains, domain size)
        for order in range(n):
            domains = sorted(d for d, ix in left.items() if ix)
            d = domains[rng.randrange(len(domains))]
            size = len(left[d])
            rank = sample_rank(size, rng)
            picks[left[d].pop(rank)] = (order, rank, len(domains), size)
        out = []
        for i, r in enumerate(records):
            d = r.get("domain") or ""
            cols = {"diversity_length_rank": first_rank[i], "diversity_pick": None}
            if i in picks:
                order, rank, nd, size = picks[i]
                cols["diversity_pick"] = order
                reason = f"s1 pick {order + 1} of {n}: domain {d!r} drawn from {nd}, length rank {rank} of {size} left"
                out.append(Decision(True, reason, cols))
            else:
                out.append(Decision(False, f"s1: not drawn before n={n} were picked (domain {d!r})", cols))
        return out

    # -- coverage ------------------------------------------------------------------------------------------
    def _coverage(self, records: list[dict], rng: random.Random) -> list[Decision]:
        if not records:
            return []
        x = embeddings(records)
        if self.normalize:
            norms = np.linalg.norm(x, axis=1, keepdims=True)
            x = x / np.where(norms == 0, 1.0, norms)
        n = min(self.n or len(records), len(records))
        if self.method == "kcenter":
            order, dist = kcenter_greedy(x, n)
            info = {
                i: f"k-center pick {k + 1} of {n}, distance {dist[k]:.4g} to the picks before"
                for k, i in enumerate(order)
            }
        else:
            order, labels = kmeans_nearest(x, n, seed=rng.randrange(2**31))
            info = {i: f"k-means pick {k + 1} of {n}: nearest to centroid {k}" for k, i in enumerate(order)}
        pos = {i: k for k, i in enumerate(order)}
        out = []
        for i in range(len(records)):
            cols: dict[str, Any] = {"diversity_pick": pos.get(i)}
            if self.method == "kmeans":
                cols["diversity_cluster"] = int(labels[i])
            if i in pos:
                out.append(Decision(True, info[i], cols))
            else:
                out.append(Decision(False, f"{self.method}: not among the {n} covering records", cols))
        return out


def _number(v: Any) -> float | None:
    """``v`` as a finite float, or None for None / NaN / pd.NA (joined profile columns may hold either)."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


def sample_rank(m: int, rng: random.Random) -> int:
    """A rank in ``[0, m)`` with probability ``2^-r / sum_{k<m} 2^-k`` (one ``rng.random()`` draw).

    Walks the cumulative sum, ~2 steps on average, so a 10k-record domain costs no more than a small one.
    """
    total = 2.0 - 2.0 ** (1 - m)
    u = rng.random() * total
    acc, w = 0.0, 1.0
    for r in range(m):
        acc += w
        if u < acc:
            return r
        w *= 0.5
    return m - 1  # float round-off at the very end of the cumulative sum


def embeddings(records: list[dict]) -> np.ndarray:
    """The ``embedding`` column as a float64 ``[N, d]`` array; an error names the first bad record."""
    rows = []
    for r in records:
        e = r.get("embedding")
        if e is None or (np.ndim(e) == 0 and _number(e) is None):  # None, NaN or pd.NA
            raise ValueError(
                f"embedding: record {r.get('id')!r} has none; fill the column with "
                "reasonsift.select.embed.mean_hidden_states(model, tokenizer, texts)"
            )
        rows.append(np.asarray(e, dtype=np.float64).ravel())
    dims = {len(v) for v in rows}
    if len(dims) != 1:
        raise ValueError(f"embedding: records differ in dimension ({sorted(dims)})")
    x = np.stack(rows)
    if not np.isfinite(x).all():
        bad = records[int(np.where(~np.isfinite(x).all(axis=1))[0][0])]["id"]
        raise ValueError(f"embedding: record {bad!r} holds a non-finite value")
    return x


def kcenter_greedy(x: np.ndarray, k: int) -> tuple[list[int], list[float]]:
    """Greedy farthest-point k-center over rows of ``x`` ``[N, d]``.

    Start: the row nearest the mean (ties: lowest index). Then repeatedly the row farthest (Euclidean) from the
    rows picked so far, ties to the lowest index. Returns the picked indices and, per pick, its distance to the
    earlier picks (the first: its distance to the mean).
    """
    d0 = np.linalg.norm(x - x.mean(axis=0), axis=1)
    first = int(np.argmin(d0))
    order, dist = [first], [float(d0[first])]
    sq = np.einsum("ij,ij->i", x, x)
    # squared distances by ||x||^2 - 2 x.c + ||c||^2: one matrix-vector product per pick (10k x 64: ~0.5 ms).
    # einsum, not BLAS `@`: a threaded BLAS matvec this small is ~20x slower on a busy machine.
    near = np.maximum(sq - 2 * np.einsum("ij,j->i", x, x[first]) + sq[first], 0.0)
    while len(order) < k:
        i = int(np.argmax(near))
        order.append(i)
        dist.append(float(np.sqrt(near[i])))
        np.minimum(near, np.maximum(sq - 2 * np.einsum("ij,j->i", x, x[i]) + sq[i], 0.0), out=near)
    return order, dist


def kmeans_nearest(x: np.ndarray, k: int, *, seed: int) -> tuple[list[int], np.ndarray]:
    """k-means (scikit-learn, ``random_state=seed``); per cluster in index order the nearest unpicked row."""
    try:
        from sklearn.cluster import KMeans
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "method: kmeans needs scikit-learn (pip install scikit-learn); method: kcenter needs nothing"
        ) from e
    km = KMeans(n_clusters=k, n_init="auto", random_state=seed).fit(x)  # auto: one k-means++ start
    picked: list[int] = []
    taken: set[int] = set()
    for c in range(k):
        d = np.linalg.norm(x - km.cluster_centers_[c], axis=1)
        for i in np.argsort(d, kind="stable"):
            if int(i) not in taken:
                picked.append(int(i))
                taken.add(int(i))
                break
    return picked, km.labels_
