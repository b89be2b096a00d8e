"""Entropy summaries and mask overlap (CLAIMS.md C1 facts: share of H < 0.01, 80th percentile, overlap)."""

from __future__ import annotations

import math

import torch

from reasonsift.ops.masks import quantile

LOW_ENTROPY = 0.01  # "more than half of CoT tokens have H < 0.01" (arXiv 2506.01939)
PERCENTILES = (50, 80, 90, 99)


def entropy_summary(h: torch.Tensor, top_share: float = 0.2) -> dict[str, float]:
    """Mean, percentiles (linear), share of tokens with H < 0.01 and share of entropy mass in the top 20%.

    Args:
        h: ``[N]`` entropies of the scored tokens. All values ``nan`` when N = 0.
    Top mass: the ``ceil(top_share * N)`` highest-entropy tokens' sum over the total (``nan`` if total 0).
    """
    keys = ["H_mean", *(f"H_p{p}" for p in PERCENTILES), "frac_H_below_0_01", "top20_entropy_mass"]
    h = h.reshape(-1).double()
    if h.numel() == 0:
        return dict.fromkeys(keys, math.nan)
    out = {"H_mean": float(h.mean())}
    for p in PERCENTILES:
        out[f"H_p{p}"] = quantile(h, p / 100, "linear")
    out["frac_H_below_0_01"] = float((h < LOW_ENTROPY).double().mean())
    k = math.ceil(top_share * h.numel())
    total = float(h.sum())
    out["top20_entropy_mass"] = (
        float(h.sort(descending=True).values[:k].sum()) / total if total > 0 else math.nan
    )
    return out


def mask_overlap(a: torch.Tensor, b: torch.Tensor) -> float:
    """Share of ``a``'s selected positions also selected in ``b``: ``|a & b| / |a|`` (``nan`` if a is empty).

    With two top-20% masks of the same tokens this is the "overlap of forking positions" of arXiv 2506.01939.
    """
    na = int(a.sum())
    return float((a & b).sum()) / na if na else math.nan
