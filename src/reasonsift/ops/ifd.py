"""Instruction-Following Difficulty (Cherry LLM, arXiv 2308.12032) and reverse IFD (arXiv 2402.10110).

IFD = s(A|Q) / s(A), s = mean token NLL of the response; IFD > 1 means the question does not help predict
the answer (Cherry LLM drops those). r-IFD = PPL(Q|A) / PPL(Q): how much the response helps to guess the
question ("feasibility" in Selective Reflection-Tuning); lower is better.
"""

from __future__ import annotations

import math

import torch


def mean_nll(logprob: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    """Mean negative log-likelihood of the selected tokens; ``nan`` when none is selected.

    Args:
        logprob: ``[N]`` log p of each target token.
        mask: ``[N]`` bool, tokens that count (all when None).
    """
    lp = logprob.double() if mask is None else logprob.double()[mask]
    return float(-lp.mean()) if lp.numel() else math.nan


def ifd(s_a_given_q: float, s_a: float) -> float:
    """IFD = s(A|Q) / s(A) with s a mean NLL (nats/token); ``nan`` if s(A) is 0 or undefined."""
    if not math.isfinite(s_a) or s_a == 0 or not math.isfinite(s_a_given_q):
        return math.nan
    return s_a_given_q / s_a


def r_ifd(nll_q_given_a: float, nll_q: float) -> float:
    """r-IFD = PPL(Q|A) / PPL(Q) = exp(s(Q|A) - s(Q)), from mean NLLs (nats/token)."""
    if not (math.isfinite(nll_q_given_a) and math.isfinite(nll_q)):
        return math.nan
    return math.exp(nll_q_given_a - nll_q)
