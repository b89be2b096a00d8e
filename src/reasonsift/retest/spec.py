"""A claim's re-test, declared before it runs: the claim as the note states it, its real source, the note's
attribution error, the decision rule and what it needs; and the registry ``reasonsift retest`` reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reasonsift.retest.verdict import Rule

SCALE_CAVEAT = (
    "Built-in scale: a ~1M-parameter model trained from scratch on synthetic tasks, minutes of CPU training. "
    "A verdict here says what happens at this scale, not what happens for a 7B model on competition maths."
)


@dataclass
class ArmRun:
    """What an experiment hands back: per-arm ``[questions, seeds]`` scores of the rule's metric, per-arm
    facts (cost, profile facts), and optionally:

    - ``metrics``: further metrics, ``{metric: {arm: [questions, seeds]}}`` (each metric's arms on the same
      questions; e.g. trace validity, out-of-distribution accuracy), summarised with CIs beside the main one;
    - ``effect``: the rule's effect when it is not a paired difference of two arms' scores (C4's Cohen's d of
      format groups minus domain groups): ``{"diff", "ci_low", "ci_high"}`` computed by the spec.
    """

    scores: dict[str, np.ndarray]
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    metrics: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    effect: dict[str, float] | None = None


@dataclass(frozen=True)
class ClaimSpec:
    id: str  # C1 ... C9, s1, limo
    title: str
    claim: str  # as the note states it
    source: str  # the actual paper
    attribution_note: str | None  # where the note's citation is wrong (CLAIMS.md), else None
    rule: Rule
    needs: str  # what a user must bring to run it on their own model and data
    arms: tuple[tuple[str, str], ...]  # (name, what it is)
    run: Callable[..., ArmRun]  # run(cfg, out: Path) -> ArmRun
    comparisons: tuple[tuple[str, str], ...] = ()  # further (a, b) pairs reported beside the rule's
    caveat: str = SCALE_CAVEAT
    custom_effect: bool = False  # the rule's a and b name groups, and the run hands back ArmRun.effect


SPECS: dict[str, ClaimSpec] = {}


def register(spec: ClaimSpec) -> ClaimSpec:
    if spec.id in SPECS:
        raise ValueError(f"claim {spec.id!r} registered twice")
    arm_names = {a for a, _ in spec.arms}
    rule_arms = () if spec.custom_effect else (spec.rule.a, spec.rule.b)
    for name in (*rule_arms, *(x for pair in spec.comparisons for x in pair)):
        if name not in arm_names:
            raise ValueError(f"claim {spec.id}: arm {name!r} is compared but not declared")
    SPECS[spec.id] = spec
    return spec


def get_spec(claim: str) -> ClaimSpec:
    from reasonsift.retest import claims  # noqa: F401 - registers the specs

    key = claim.upper() if claim.upper() in SPECS else claim.lower()
    if key not in SPECS:
        raise ValueError(f"claim: unknown {claim!r}; expected all or one of {', '.join(SPECS)}")
    return SPECS[key]


def all_specs() -> list[ClaimSpec]:
    from reasonsift.retest import claims  # noqa: F401
    from reasonsift.retest.report import PLANNED

    return sorted(SPECS.values(), key=lambda s: PLANNED.index(s.id) if s.id in PLANNED else len(PLANNED))


def out_path(out: Path, *parts: str) -> Path:
    p = Path(out, *parts)
    p.parent.mkdir(parents=True, exist_ok=True)
    return p
