"""Per-arm summaries and paired comparisons of a re-test (RETEST.md: questions x seeds, paired bootstrap).

An arm's scores are a ``[questions, seeds]`` matrix (1.0 correct, 0.0 not), the same questions in the same
order for every arm. Its mean and CI come from a cluster bootstrap over questions (a question's seeds stay
together); a difference between two arms is the paired bootstrap over the same questions
(:func:`reasonsift.evaluate.metrics.paired_bootstrap`); Cohen's d pools the per-question means.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from reasonsift.evaluate.metrics import bootstrap_ci, cohens_d, paired_bootstrap


def check_scores(arms: Mapping[str, np.ndarray]) -> None:
    shapes = {name: np.asarray(s).shape for name, s in arms.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(f"arms: every arm needs the same questions x seeds, got {shapes}")
    for name, shape in shapes.items():
        if len(shape) != 2 or shape[0] == 0 or shape[1] == 0:
            raise ValueError(
                f"arms: {name}: expected a non-empty [questions, seeds] matrix, got shape {shape}"
            )


def arm_summary(scores: np.ndarray, *, seed: int = 0) -> dict[str, float | list[float]]:
    """``mean``, ``ci_low``, ``ci_high`` over questions x seeds, and ``per_seed`` means."""
    x = np.asarray(scores, dtype=np.float64)
    lo, hi = bootstrap_ci(x, seed=seed)
    return {"mean": float(x.mean()), "ci_low": lo, "ci_high": hi, "per_seed": x.mean(0).tolist()}


def compare(a: np.ndarray, b: np.ndarray, *, seed: int = 0) -> dict[str, float]:
    """``a - b``: the paired difference with its CI, and Cohen's d of the per-question means."""
    xa, xb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    out = paired_bootstrap(xa, xb, seed=seed)
    qa, qb = xa.mean(1), xb.mean(1)
    out["cohens_d"] = cohens_d(qa, qb) if qa.size + qb.size >= 3 else float("nan")
    return out
