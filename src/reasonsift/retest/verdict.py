"""Decision rules, written before a claim is run, and the verdict they give (docs/retest.md).

A rule compares two arms, ``a`` and ``b``, on one metric by the paired difference ``a - b`` (in the metric's
units, e.g. accuracy as a fraction) and its bootstrap CI, against ``margin``, the smallest effect that counts:

==============  ===========================================  ===========================================
kind            supported when                               not supported when
==============  ===========================================  ===========================================
``better``      ``ci_low > 0`` and ``diff >= margin``        ``ci_high < margin`` (any gain is too small)
``worse``       ``ci_high < 0`` and ``diff <= -margin``      ``ci_low > -margin``
``matches``     the CI lies inside ``[-margin, +margin]``    the CI lies wholly outside it
``at_least``    ``ci_low > -margin`` (not worse by margin)   ``ci_high < -margin``
==============  ===========================================  ===========================================

Anything else is ``inconclusive at this scale``: the data cannot tell at the size that was run.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive at this scale"
VERDICTS = (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE)
KINDS = ("better", "worse", "matches", "at_least")
UNITS = ("fraction", "value")
_WORDS = {
    "better": "beats",
    "worse": "is worse than",
    "matches": "matches",
    "at_least": "is at least as good as",
}


@dataclass(frozen=True)
class Rule:
    kind: str  # better, worse, matches, at_least
    a: str  # the arm the claim is about
    b: str  # the arm it is compared with
    metric: str  # e.g. "accuracy"
    margin: float  # the smallest effect that counts, in the metric's units
    unit: str = "fraction"  # fraction (reported as percent and points) or value (reported as is)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind: expected one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.unit not in UNITS:
            raise ValueError(f"unit: expected one of {', '.join(UNITS)}, got {self.unit!r}")
        if not self.margin >= 0:
            raise ValueError(f"margin: expected >= 0, got {self.margin}")

    def text(self) -> str:
        m = f"{self.margin:g}"
        cond = {
            "better": f"the paired difference {self.a} - {self.b} has a 95% CI above 0 and is at least {m}; "
            f"not supported if the CI lies below {m}",
            "worse": f"the paired difference {self.a} - {self.b} has a 95% CI below 0 and is at most -{m}; "
            f"not supported if the CI lies above -{m}",
            "matches": f"the 95% CI of the paired difference {self.a} - {self.b} lies inside [-{m}, +{m}]; "
            "not supported if it lies wholly outside",
            "at_least": f"the 95% CI of the paired difference {self.a} - {self.b} lies above -{m}; "
            f"not supported if it lies below -{m}",
        }[self.kind]
        return f"{self.a} {_WORDS[self.kind]} {self.b} on {self.metric} if {cond}; otherwise inconclusive."

    def decide(self, diff: float, ci_low: float, ci_high: float) -> str:
        if not all(math.isfinite(x) for x in (diff, ci_low, ci_high)):
            return INCONCLUSIVE
        m = self.margin
        if self.kind == "better":
            if ci_low > 0 and diff >= m:
                return SUPPORTED
            return NOT_SUPPORTED if ci_high < m else INCONCLUSIVE
        if self.kind == "worse":
            if ci_high < 0 and diff <= -m:
                return SUPPORTED
            return NOT_SUPPORTED if ci_low > -m else INCONCLUSIVE
        if self.kind == "matches":
            if -m <= ci_low and ci_high <= m:
                return SUPPORTED
            return NOT_SUPPORTED if (ci_low > m or ci_high < -m) else INCONCLUSIVE
        if ci_low > -m:
            return SUPPORTED
        return NOT_SUPPORTED if ci_high < -m else INCONCLUSIVE

    def to_dict(self) -> dict:
        return asdict(self) | {"text": self.text()}
