"""Information gain of reasoning steps (Wu et al., "Knowledge or Reasoning?", arXiv 2506.02126).

A fixed scorer gives ``nll[i]`` = mean NLL of the answer tokens given q and the first i steps, i = 0..n,
and PPL_i = exp(nll[i]). InfoGain = sum_{i=1..n} (PPL_{i-1} - PPL_i) / (n + 1) (the paper's normalisation).
The sum telescopes to PPL_0 - PPL_n, so scoring only some prefixes (steps grouped) gives the same InfoGain as
long as the first and last are scored and n is the true number of steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Post-hoc rationalisation (CLAIMS.md C6): the answer is already likely before any step, and the steps
# add (almost) nothing. Defaults: PPL_0 < 1.5 means the answer tokens average p > 2/3 with no reasoning;
# a total NLL gain < 0.05 nats/token is ~5% lower perplexity after all steps.
DEFAULT_POSTHOC_PPL0 = 1.5
DEFAULT_POSTHOC_GAIN = 0.05


@dataclass
class InfoGain:
    gains: list[float]  # [n]: nll[i-1] - nll[i], i = 1..n (nats/token)
    total: float  # nll[0] - nll[n]
    info_gain: float  # sum_i (PPL_{i-1} - PPL_i) / (n + 1)
    ppl0: float


def info_gain(nll: list[float], n_steps: int | None = None) -> InfoGain:
    """Per-step NLL gains, total gain and InfoGain from ``nll`` of length ``g + 1``.

    ``nll[0]`` is the score with no step and ``nll[-1]`` with all of them; in between, one value per step
    (``g == n``) or per group of steps. ``n_steps`` is the true number of steps n (default ``g``): InfoGain
    divides by ``n + 1`` whatever the grouping.
    """
    if not nll:
        raise ValueError("nll: need at least the no-step score nll[0]")
    g = len(nll) - 1
    n = g if n_steps is None else n_steps
    if n < g:
        raise ValueError(f"n_steps: {n} steps cannot give {g} groups")
    gains = [nll[i - 1] - nll[i] for i in range(1, g + 1)]
    ppl = [math.exp(x) for x in nll]
    ig = sum(ppl[i - 1] - ppl[i] for i in range(1, g + 1)) / (n + 1)
    return InfoGain(gains, nll[0] - nll[g], ig, ppl[0])


def is_posthoc(
    ppl0: float,
    total_gain: float,
    ppl0_max: float = DEFAULT_POSTHOC_PPL0,
    gain_min: float = DEFAULT_POSTHOC_GAIN,
) -> bool:
    """True when the answer is likely before any step (PPL_0 < ppl0_max) and the steps add < gain_min nats."""
    return bool(ppl0 < ppl0_max and total_gain < gain_min)
