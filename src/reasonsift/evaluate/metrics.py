"""Evaluation metrics as pure functions (numpy): pass@k, maj@k, solve rate, bootstrap CIs, Cohen's d, summaries.

Sources: pass@k is the unbiased estimator of Chen et al. 2021 (arXiv 2107.03374, Codex paper, Fig. 3's
numerically stable product form); maj@k is majority voting over sampled answers (self-consistency, Wang et
al. 2022, arXiv 2203.11171); the percentile bootstrap is Efron & Tibshirani 1993; Cohen's d uses the pooled
standard deviation (Cohen 1988), the effect size CLAIMS.md C4 reports.

Units of resampling: every CI here resamples *questions* (rows of ``values``). Per-question values such as
pass@k or solve rate already aggregate a question's samples, so resampling questions keeps each question's
samples together: this is the cluster bootstrap over questions x samples that CIs of pass@k need (samples of
one question are not independent). For questions x seeds, pass a ``[Q, S]`` array: rows are resampled,
columns stay together.
"""

from __future__ import annotations

import inspect
import math
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from reasonsift.tasks.outcome import STATES, Outcome

DEFAULT_N_BOOT = 1000
DEFAULT_ALPHA = 0.05  # 95% intervals
DEFAULT_KS = (1, 4, 8)
# The per-question record :func:`summarize` reads (one dict per question; lists are per sample, in order).
QUESTION_FIELDS = (
    "id", "task", "split", "domain", "format", "n", "correct", "answers", "correct_list", "states",
)  # fmt: skip


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one question from ``n`` samples of which ``c`` are correct (Chen et al. 2021).

    ``1 - C(n - c, k) / C(n, k)``: the probability that a uniformly random k-subset of the n samples holds at
    least one correct one. Computed as ``1 - prod_{i = n-c+1}^{n} (1 - k / i)`` (the paper's stable form; the
    binomials overflow floats for n in the hundreds). ``1.0`` when ``n - c < k`` (every k-subset holds a
    correct sample), ``0.0`` when ``c = 0``.

    >>> pass_at_k(10, 0, 1), pass_at_k(10, 10, 5), pass_at_k(2, 1, 1)
    (0.0, 1.0, 0.5)
    """
    if k < 1:
        raise ValueError(f"k: expected >= 1, got {k}")
    if k > n:
        raise ValueError(f"k: pass@{k} needs at least k samples per question, got n = {n}")
    if not 0 <= c <= n:
        raise ValueError(f"c: expected 0 <= c <= n = {n}, got {c}")
    if c == 0:
        return 0.0
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1, dtype=np.float64)))


def maj_at_k(answers: Sequence[str | None], correct: Sequence[bool], k: int) -> float:
    """Majority vote over the first ``k`` samples: 1.0 if the most frequent extracted answer is correct.

    Answers are compared as given (the extractor normalises them). ``None`` (no answer extracted) never
    wins a vote; if no sample has an answer the vote is 0.0. Ties between equally frequent answers go to
    the answer that occurs first among the k samples (deterministic; a random tie-break would make the
    metric depend on a seed). The winner's correctness is that of its first occurrence.

    >>> maj_at_k(["3", "4", "4", None], [True, False, False, False], 4)
    0.0
    >>> maj_at_k(["3", "4", None], [True, False, False], 2)  # tie 3 vs 4: the first one wins
    1.0
    """
    if len(answers) != len(correct):
        raise ValueError(f"correct: {len(correct)} flags for {len(answers)} answers")
    if k < 1 or k > len(answers):
        raise ValueError(f"k: expected 1 <= k <= {len(answers)} (samples given), got {k}")
    votes = Counter(a for a in answers[:k] if a is not None)
    if not votes:
        return 0.0
    best = max(votes.values())
    for a, ok in zip(answers[:k], correct[:k], strict=True):  # first answer reaching the top count
        if a is not None and votes[a] == best:
            return 1.0 if ok else 0.0
    raise AssertionError("unreachable")  # pragma: no cover


def solve_rate(c: int, n: int) -> float:
    """``c / n``: the share of a question's samples that are correct (the per-question pass@1 estimate)."""
    if n < 1:
        raise ValueError(f"n: expected >= 1, got {n}")
    if not 0 <= c <= n:
        raise ValueError(f"c: expected 0 <= c <= n = {n}, got {c}")
    return c / n


def _reduce(stat: Callable, x: np.ndarray) -> np.ndarray:
    """``stat`` of each replicate ``x[b]`` (``x``: ``[B, N, ...]``) -> ``[B]``; vectorised when ``stat`` has
    an ``axis`` argument (numpy reductions), else one call per replicate."""
    try:
        has_axis = "axis" in inspect.signature(stat).parameters
    except (TypeError, ValueError):
        has_axis = False
    if has_axis:
        return np.asarray(stat(x, axis=tuple(range(1, x.ndim))), dtype=np.float64)
    return np.array([stat(r) for r in x], dtype=np.float64)


def _check_boot(n_boot: int, alpha: float) -> None:
    if n_boot < 1:
        raise ValueError(f"n_boot: expected >= 1, got {n_boot}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: expected 0 < alpha < 1, got {alpha}")


def bootstrap_indices(n: int, *, n_boot: int = DEFAULT_N_BOOT, seed: int = 0) -> np.ndarray:
    """``[n_boot, n]`` row indices drawn with replacement (``numpy.random.default_rng(seed)``): the resamples
    every bootstrap here uses, so that two statistics resampled with one seed are paired."""
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def _interval(reps: np.ndarray, alpha: float) -> tuple[float, float]:
    reps = reps[np.isfinite(reps)]
    if reps.size == 0:
        return math.nan, math.nan
    lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def bootstrap_ci(
    values: np.ndarray,
    stat: Callable = np.mean,
    *,
    n_boot: int = DEFAULT_N_BOOT,
    alpha: float = DEFAULT_ALPHA,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap ``(1 - alpha)`` interval of ``stat(values)``, resampling rows (questions).

    Args:
        values: ``[N]`` per-question values, or ``[N, ...]`` (e.g. questions x seeds): rows are resampled
            with replacement, a row's entries stay together (a cluster bootstrap).
        stat: reduction of one resample ``[N, ...]`` to a number; numpy reductions (``np.mean``,
            ``np.median``) run vectorised over all ``n_boot`` resamples at once (memory ``n_boot x N``).
    Returns ``(low, high)``: the ``alpha/2`` and ``1 - alpha/2`` quantiles (linear) of the ``n_boot``
    replicates; ``(nan, nan)`` for no values. Non-finite replicates are dropped.
    """
    _check_boot(n_boot, alpha)
    x = np.asarray(values, dtype=np.float64)
    if x.ndim == 0:
        raise ValueError("values: expected an array of per-question values, got a scalar")
    if x.shape[0] == 0:
        return math.nan, math.nan
    reps = _reduce(stat, x[bootstrap_indices(x.shape[0], n_boot=n_boot, seed=seed)])
    return _interval(reps, alpha)


def paired_bootstrap(
    a: np.ndarray,
    b: np.ndarray,
    stat: Callable = np.mean,
    *,
    n_boot: int = DEFAULT_N_BOOT,
    alpha: float = DEFAULT_ALPHA,
    seed: int = 0,
) -> dict[str, float]:
    """Difference ``stat(a) - stat(b)`` of two runs on the same questions, with a paired bootstrap CI.

    ``a[i]`` and ``b[i]`` must be the same question: each replicate resamples question indices once and
    applies them to both arrays, so the CI reflects the per-question pairing (much narrower than two
    independent CIs when the runs agree on which questions are hard).

    Returns ``{"diff", "ci_low", "ci_high"}`` (``nan`` for empty inputs).
    """
    _check_boot(n_boot, alpha)
    xa, xb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if xa.shape != xb.shape or xa.ndim == 0:
        raise ValueError(f"b: expected the same questions as a (shape {xa.shape}), got shape {xb.shape}")
    if xa.shape[0] == 0:
        return {"diff": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    idx = bootstrap_indices(xa.shape[0], n_boot=n_boot, seed=seed)
    diff = float((_reduce(stat, xa[None]) - _reduce(stat, xb[None]))[0])
    lo, hi = _interval(_reduce(stat, xa[idx]) - _reduce(stat, xb[idx]), alpha)
    return {"diff": diff, "ci_low": lo, "ci_high": hi}


def cohens_d(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's d = ``(mean(a) - mean(b)) / s_pooled``, ``s_pooled^2 = ((na-1) var_a + (nb-1) var_b) /
    (na + nb - 2)`` with sample variances (ddof 1). ``nan`` when the pooled SD is 0 (d is undefined).

    >>> round(cohens_d([1, 2, 3], [2, 3, 4]), 6)
    -1.0
    """
    xa, xb = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    na, nb = xa.size, xb.size
    if na < 1 or nb < 1 or na + nb < 3:
        raise ValueError(f"a, b: need at least one value each and three in all, got {na} and {nb}")
    ss = ((xa - xa.mean()) ** 2).sum() + ((xb - xb.mean()) ** 2).sum()
    sd = math.sqrt(ss / (na + nb - 2))
    return float((xa.mean() - xb.mean()) / sd) if sd > 0 else math.nan


# --- per-question records and grouped summaries -------------------------------------------------------------


def question_record(
    id: str,
    outcomes: Sequence[Outcome],
    *,
    task: str = "",
    split: str = "",
    domain: str = "",
    format: str = "free_form",
) -> dict:
    """The per-question dict :func:`summarize` reads, from the verifier outcomes of its samples (in order).

    Fields (:data:`QUESTION_FIELDS`): ``id``, ``task``, ``split``, ``domain``, ``format``; ``n`` samples;
    ``correct`` = number of samples whose state is ``correct``; per sample, in sample order: ``answers``
    (the extracted answer, ``None`` when none was extracted), ``correct_list`` (bool), ``states`` (one of
    :data:`reasonsift.tasks.outcome.STATES`).
    """
    return {
        "id": id, "task": task, "split": split, "domain": domain, "format": format,
        "n": len(outcomes), "correct": sum(o.correct for o in outcomes),
        "answers": [o.extracted or None for o in outcomes],
        "correct_list": [o.correct for o in outcomes],
        "states": [o.state for o in outcomes],
    }  # fmt: skip


def check_question(q: dict) -> None:
    """Refuse a malformed per-question record, naming the question and the field."""
    qid = q.get("id", "?")
    for f in QUESTION_FIELDS:
        if f not in q:
            raise ValueError(f"{f}: missing from the record of question {qid!r}")
    n = q["n"]
    for f in ("answers", "correct_list", "states"):
        if len(q[f]) != n:
            raise ValueError(f"{f}: question {qid!r} has {len(q[f])} entries for n = {n} samples")
    if q["correct"] != sum(bool(x) for x in q["correct_list"]):
        raise ValueError(f"correct: question {qid!r} says {q['correct']}, correct_list has another count")
    bad = [s for s in q["states"] if s not in STATES]
    if bad:
        raise ValueError(f"states: question {qid!r} has unknown state {bad[0]!r}; expected one of {STATES}")
    if n < 1:
        raise ValueError(f"n: question {qid!r} has no samples")


def _with_ci(values: np.ndarray, n_boot: int, alpha: float, seed: int) -> dict[str, float]:
    lo, hi = bootstrap_ci(values, n_boot=n_boot, alpha=alpha, seed=seed)
    return {"value": float(np.mean(values)), "ci_low": lo, "ci_high": hi}


def group_metrics(
    questions: Sequence[dict],
    ks: Sequence[int] = DEFAULT_KS,
    *,
    greedy: bool | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    alpha: float = DEFAULT_ALPHA,
    seed: int = 0,
) -> dict:
    """Metrics of one group of questions (see :func:`summarize`)."""
    for q in questions:
        check_question(q)
    greedy = all(q["n"] == 1 for q in questions) if greedy is None else greedy
    states = Counter(s for q in questions for s in q["states"])
    out: dict = {
        "n_questions": len(questions),
        "n_samples": sum(q["n"] for q in questions),
        "states": {s: states[s] for s in STATES},
    }
    if not questions:
        return out
    boot = {"n_boot": n_boot, "alpha": alpha, "seed": seed}
    out["solve_rate"] = _with_ci(np.array([solve_rate(q["correct"], q["n"]) for q in questions]), **boot)
    if greedy:
        # A greedy run: the first sample of each question is the answer.
        out["accuracy"] = _with_ci(np.array([float(q["correct_list"][0]) for q in questions]), **boot)
        return out
    n_min = min(q["n"] for q in questions)
    for k in ks:
        if k > n_min:
            raise ValueError(f"k: pass@{k} needs k samples per question, but some question has n = {n_min}")
        out[f"pass@{k}"] = _with_ci(np.array([pass_at_k(q["n"], q["correct"], k) for q in questions]), **boot)
        out[f"maj@{k}"] = _with_ci(
            np.array([maj_at_k(q["answers"], q["correct_list"], k) for q in questions]), **boot
        )
    return out


def summarize(
    per_question: Sequence[dict],
    group_keys: Sequence[str] = ("task", "split"),
    ks: Sequence[int] = DEFAULT_KS,
    *,
    greedy: bool | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    alpha: float = DEFAULT_ALPHA,
    seed: int = 0,
) -> dict[str, dict]:
    """Metrics by group: ``"all"`` first, then one group per combination of ``group_keys`` values.

    Args:
        per_question: one dict per question, as :func:`question_record` builds (:data:`QUESTION_FIELDS`).
        group_keys: fields that define a group; a group is named by its values joined with ``":"``
            (``"arith:test"`` for task arith, split test, as ``--task NAME:SPLIT`` spells it) and its dict
            repeats the values under their keys. Call again with ``("domain",)`` or ``("format",)`` for
            those breakdowns.
        ks: the k of pass@k and maj@k (sampled runs); each must be <= every question's ``n``.
        greedy: a greedy run reports ``accuracy`` (the first sample's correctness) instead of pass@k and
            maj@k; None: greedy iff every question has one sample.
    Each group: ``n_questions``, ``n_samples``, ``states`` (count of every Outcome state over samples: a
    verifier ``timeout``/``error`` is reported here and is not a correct sample, so it lowers the metrics
    below; a reader sees how many there were), ``solve_rate`` (mean c/n) and either ``accuracy`` or
    ``pass@K``/``maj@K`` for each K, each as ``{"value", "ci_low", "ci_high"}``: the mean over the group's
    questions with a percentile bootstrap CI over questions (:func:`bootstrap_ci`, seeded).
    """
    groups: dict[tuple, list[dict]] = {}
    for q in per_question:
        groups.setdefault(tuple(q.get(k) for k in group_keys), []).append(q)
    kw = {"ks": ks, "greedy": greedy, "n_boot": n_boot, "alpha": alpha, "seed": seed}
    if greedy is None:  # one decision for every group: a group must not switch metrics because it is small
        kw["greedy"] = all(q["n"] == 1 for q in per_question)
    out = {"all": group_metrics(per_question, **kw)}
    for key in [] if not group_keys else sorted(groups, key=lambda t: tuple(str(v) for v in t)):
        name = ":".join(str(v) for v in key)
        out[name] = {**dict(zip(group_keys, key, strict=True)), **group_metrics(groups[key], **kw)}
    return out


__all__ = [
    "QUESTION_FIELDS",
    "bootstrap_ci",
    "bootstrap_indices",
    "check_question",
    "cohens_d",
    "group_metrics",
    "maj_at_k",
    "paired_bootstrap",
    "pass_at_k",
    "question_record",
    "solve_rate",
    "summarize",
]
