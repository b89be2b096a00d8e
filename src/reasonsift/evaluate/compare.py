"""Paired comparison of two eval runs on the same questions (RETEST.md: paired statistics between arms).

``compare_runs(A, B)`` reads both runs' ``questions.parquet``, pairs questions by id (refusing runs that do not
hold the same questions: a comparison on different items is not paired), and reports, overall and per
task/split group, the difference of mean solve rates ``A - B`` with a paired bootstrap CI (questions resampled
jointly, :func:`reasonsift.evaluate.metrics.paired_bootstrap`). With one sample per question the solve rate is
the greedy accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reasonsift.run.config import StageConfig


@dataclass
class CompareConfig(StageConfig):
    run_a: str = ""  # an eval run directory
    run_b: str = ""  # another, on the same questions
    n_boot: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("run_a", "run_b"):
            if not getattr(self, name):
                raise ValueError(f"{name}: no run directory given")
        if self.n_boot < 1:
            raise ValueError(f"n_boot: expected >= 1, got {self.n_boot}")


def _questions(run: str | Path) -> dict[str, dict]:
    import pyarrow.parquet as pq

    p = Path(run) / "questions.parquet"
    if not p.is_file():
        raise FileNotFoundError(f"{run}: no questions.parquet; is it a finished `reasonsift eval` run?")
    return {r["id"]: r for r in pq.read_table(p).to_pylist()}


def compare_runs(
    a: str | Path, b: str | Path, *, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0
) -> dict:
    """``{"all": {...}, "TASK:SPLIT": {...}}``, each ``{"n_questions", "a", "b", "diff", "ci_low", "ci_high"}``."""
    from reasonsift.evaluate.metrics import paired_bootstrap

    qa, qb = _questions(a), _questions(b)
    only = sorted(set(qa) ^ set(qb))
    if only:
        raise ValueError(
            f"runs: {len(only)} questions are in only one of the runs (e.g. {only[0]!r}); a paired comparison "
            "needs the same questions (same tasks, --limit and --data-seed, or the same data)"
        )
    ids = sorted(qa)
    groups: dict[str, list[str]] = {"all": ids}
    for i in ids:
        groups.setdefault(f"{qa[i]['task']}:{qa[i]['split']}", []).append(i)
    out = {}
    for name, members in groups.items():
        xa = np.array([qa[i]["solve_rate"] for i in members], dtype=np.float64)
        xb = np.array([qb[i]["solve_rate"] for i in members], dtype=np.float64)
        d = paired_bootstrap(xa, xb, n_boot=n_boot, alpha=alpha, seed=seed)
        out[name] = {"n_questions": len(members), "a": float(xa.mean()), "b": float(xb.mean()), **d}
    return out


def main(cfg: CompareConfig) -> dict:
    return compare_runs(cfg.run_a, cfg.run_b, n_boot=cfg.n_boot, seed=cfg.seed)
