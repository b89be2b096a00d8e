"""Forking-token masks: keep a token when its entropy is at or above a quantile of a pool (arXiv 2506.01939).

tau = the ``(1 - rho)`` quantile of H over the pool; a token is *forking* when ``H_t >= tau``. With ties at
tau every tied token is kept, so the kept share can exceed ``rho`` (e.g. many tokens with H = 0 and
rho = 0.9 keeps them all); this is deterministic and matches ``H >= torch.quantile(H, 1 - rho)``.
Padding and prompt positions never enter the pool: callers pass a ``valid`` mask.
"""

from __future__ import annotations

import math

import torch

INTERPOLATIONS = ("linear", "higher")
POOLS = ("dataset", "batch", "sequence")
DEFAULT_RHO = 0.2  # top 20% (Wang et al., arXiv 2506.01939)


def check_rho(rho: float) -> float:
    if not (0.0 < rho <= 1.0) or math.isnan(rho):
        raise ValueError(f"rho: expected 0 < rho <= 1 (share of tokens kept), got {rho}")
    return rho


def quantile(values: torch.Tensor, q: float, interpolation: str = "linear") -> float:
    """The ``q`` quantile of a 1-D tensor, defined exactly as ``torch.quantile(values, q, interpolation=...)``.

    Implemented by sorting (no 16M-element limit as ``torch.quantile`` has) in float64.
    ``linear``: ``v[lo] + (v[hi] - v[lo]) * frac`` at index ``q * (n - 1)``; ``higher``: ``v[ceil(q*(n-1))]``.

    Args:
        values: ``[N]`` with ``N >= 1``.
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation: expected one of {INTERPOLATIONS}, got {interpolation!r}")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q: expected 0 <= q <= 1, got {q}")
    v = values.reshape(-1).double()
    if v.numel() == 0:
        raise ValueError("quantile of an empty pool")
    v = v.sort().values
    pos = q * (v.numel() - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    if interpolation == "higher":
        return float(v[hi])
    frac = pos - lo
    return float(v[lo] + (v[hi] - v[lo]) * frac)


def forking_threshold(
    entropy: torch.Tensor, valid: torch.Tensor, rho: float, interpolation: str = "linear"
) -> float:
    """tau = ``(1 - rho)`` quantile of ``entropy[valid]``; ``inf`` when nothing is valid.

    Args:
        entropy: ``[...]`` float.
        valid: ``[...]`` bool, same shape; False for padding and prompt positions.
    """
    check_rho(rho)
    pool = entropy[valid]
    if pool.numel() == 0:
        return math.inf
    return quantile(pool, 1.0 - rho, interpolation)


def threshold_mask(entropy: torch.Tensor, valid: torch.Tensor, tau: float) -> torch.Tensor:
    """``H >= tau`` on valid positions, False elsewhere. Shapes: ``[...]`` in, bool ``[...]`` out."""
    return (entropy.double() >= tau) & valid


def forking_mask(
    entropy: torch.Tensor,
    valid: torch.Tensor,
    rho: float = DEFAULT_RHO,
    pool: str = "batch",
    interpolation: str = "linear",
) -> torch.Tensor:
    """Forking mask with a per-``batch`` pool (all valid entries) or per-``sequence`` pool (each row).

    The ``dataset`` pool needs every token of the dataset: compute tau with :func:`forking_threshold` over
    all of them and apply :func:`threshold_mask`.

    Args:
        entropy: ``[B, L]``.
        valid: ``[B, L]`` bool.
    Returns: ``[B, L]`` bool.
    """
    if pool == "batch":
        return threshold_mask(entropy, valid, forking_threshold(entropy, valid, rho, interpolation))
    if pool == "sequence":
        rows = [
            threshold_mask(entropy[b], valid[b], forking_threshold(entropy[b], valid[b], rho, interpolation))
            for b in range(entropy.shape[0])
        ]
        return torch.stack(rows) if rows else valid.clone()
    raise ValueError(f"pool: expected 'batch' or 'sequence' here (dataset pools are two-pass), got {pool!r}")


def shuffled_batches(n: int, batch_size: int, seed: int) -> list[list[int]]:
    """Indices ``0..n-1`` in a seeded random order, cut into consecutive batches of ``batch_size`` (the last may
    be smaller): how a trainer's shuffling data loader groups examples, and so the ``batch`` forking pool."""
    if batch_size < 1:
        raise ValueError(f"batch_size: expected >= 1, got {batch_size}")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    return [perm[i : i + batch_size] for i in range(0, n, batch_size)]
