"""The selection-stage interface: a stage sees records and keeps or drops each one with a reason.

In the style of datatrove's filters (a filter returns ``(keep, reason)``): a stage's ``run`` returns one
:class:`Decision` per record, in the records' order. A *record* is a plain dict holding every Example field
(``id, question, trace, answer, choices, format, domain, source, meta``) plus the columns joined from a
profile run and an eval run (see :data:`PROFILE_COLUMNS`, :data:`EVAL_COLUMNS`). A stage reads only the
columns it declares in ``needs``; the pipeline checks them before running it.

Stages are registered by the name users type in recipes; the stage named ``x`` lives in ``select/x.py`` and
is imported on first use by :func:`get_stage`.
"""

from __future__ import annotations

import importlib
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

# Columns a profile run provides (docs/profile-schema.md), joined by id; the last two are derived by the
# pipeline from forking.parquet and the per-token entropies.
PROFILE_COLUMNS = (
    "ifd",
    "r_ifd",
    "s_a_given_q",
    "s_a",
    "H_mean",
    "frac_H_below_0_01",
    "top20_entropy_mass",
    "n_tokens",
    "info_gain",
    "ig_total",
    "posthoc",
    "forking_share_trace",
    "entropy_mass_trace",
)
# Columns an eval run provides (docs/evaluate.md, RUN/questions.parquet), joined by id.
EVAL_COLUMNS = ("solve_rate", "n", "correct")


def run_for_column(column: str) -> str | None:
    """The CLI option whose run provides ``column`` (``"--profile"`` / ``"--eval"``), or None if neither."""
    if column in PROFILE_COLUMNS:
        return "--profile"
    if column in EVAL_COLUMNS:
        return "--eval"
    return None


@dataclass
class Decision:
    """What a stage decided about one record.

    ``reason`` is never empty: it says why the record was kept or dropped (``"ifd 1.12 >= 1"``).
    ``columns`` holds the values this stage computed, written next to the record in the outputs.
    """

    keep: bool
    reason: str
    columns: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ValueError("reason: a Decision needs a non-empty reason")


class Stage(ABC):
    """One selection stage.

    Subclasses take their recipe parameters as keyword arguments with defaults, validate them (``ValueError``
    naming the parameter) and pass what is left to ``super().__init__(**params)``, which rejects unknown
    parameters by name. ``needs`` may be overridden on the instance when the columns depend on the
    parameters (``ifd`` with ``column: r_ifd``); the pipeline reads ``stage.needs`` from the instance.
    """

    name: ClassVar[str]
    needs: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **params: Any) -> None:
        if params:
            raise ValueError(f"{self.name}: unknown parameter(s) {', '.join(sorted(params))}")

    @abstractmethod
    def run(self, records: list[dict], rng: random.Random) -> list[Decision]:
        """One Decision per record, in the same order (a whole-set stage like dedup or budget sees all)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


STAGES: dict[str, type[Stage]] = {}


def register(cls: type[Stage]) -> type[Stage]:
    """Class decorator: add a stage to :data:`STAGES` under ``cls.name``."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"{cls.__name__}: a registered stage needs a class attribute 'name'")
    if name in STAGES and STAGES[name] is not cls:
        raise ValueError(f"stage name {name!r} registered twice ({STAGES[name].__name__}, {cls.__name__})")
    STAGES[name] = cls
    return cls


def get_stage(name: str, **params: Any) -> Stage:
    """Construct the stage registered as ``name`` with recipe ``params``.

    A stage not yet registered is looked for in ``reasonsift.select.<name>``; an unknown name raises
    ``ValueError`` listing the known ones.
    """
    if name not in STAGES:
        try:
            importlib.import_module(f"reasonsift.select.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"reasonsift.select.{name}":
                raise
    if name not in STAGES:
        raise ValueError(f"stage: unknown stage {name!r}; known: {', '.join(sorted(STAGES)) or '(none)'}")
    return STAGES[name](**params)
