"""Token masks and the masked loss for SFT on forking tokens (Wang et al., arXiv 2506.01939; CLAIMS.md C1).

Shapes: B sequences of L positions, V vocabulary. Every mask lives inside ``completion_mask`` (the tokens
completion-only SFT trains on); padding and prompt positions never enter a pool or a count.

* :func:`forking_loss_mask` keeps the top ``rho`` of completion tokens by entropy (ties at tau all kept, as in
  :mod:`reasonsift.ops.masks`); :func:`bottom_mask` is its complement within the completion;
  :func:`random_matched_mask` draws the control: as many random completion tokens per row as a given mask has.
* :func:`masked_loss` is the mean NLL over the selected tokens, divided by all completion tokens (``"all"``:
  the paper's normaliser) or by the selected tokens (``"selected"``: its official code, ~1/rho larger).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from reasonsift.ops.masks import DEFAULT_RHO, check_rho, forking_mask, forking_threshold, threshold_mask

NORMALIZERS = ("all", "selected")  # "all": arXiv 2506.01939's text; "selected": its released code
# global: the batch pool over every process's micro-batch (multi-GPU); one process: the same as batch
LOSS_POOLS = ("sequence", "batch", "global")
PAD_ENTROPY = -1e9  # sentinel of the cross-process gather (entropies are >= 0), as TRL's


def gathered_tau(
    entropy: torch.Tensor,
    completion_mask: torch.Tensor,
    rho: float,
    gather: Callable[[torch.Tensor], torch.Tensor],
) -> float:
    """tau over the completion tokens of every process: ``gather`` pads this process's values with
    :data:`PAD_ENTROPY` to the longest and concatenates all processes' (``accelerate``'s ``pad_across_processes``
    + ``gather``; the identity on one process)."""
    local = entropy[completion_mask.bool()].float()
    allv = gather(local)
    allv = allv[allv != PAD_ENTROPY]
    return forking_threshold(allv, torch.ones_like(allv, dtype=torch.bool), rho)


def forking_loss_mask(
    entropy: torch.Tensor,
    completion_mask: torch.Tensor,
    rho: float = DEFAULT_RHO,
    pool: str = "sequence",
    gather: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Top-``rho`` completion tokens by entropy: ``H >= tau``, tau the ``(1 - rho)`` quantile of the pool.

    Args:
        entropy: ``[B, L]`` float, the entropy of the distribution that predicts each token.
        completion_mask: ``[B, L]`` bool/int, 1 on completion tokens.
        pool: ``sequence`` (each row alone), ``batch`` (all completion tokens of this process's batch) or
            ``global`` (all completion tokens of every process's batch, through ``gather``: see
            :func:`gathered_tau`; without ``gather``, this process alone).
    Returns: ``[B, L]`` bool, False outside the completion.
    """
    check_rho(rho)
    if pool not in LOSS_POOLS:
        raise ValueError(f"pool: expected one of {', '.join(LOSS_POOLS)}, got {pool!r}")
    if pool == "global":
        tau = gathered_tau(entropy, completion_mask, rho, gather or (lambda t: t))
        return threshold_mask(entropy, completion_mask.bool(), tau)
    return forking_mask(entropy, completion_mask.bool(), rho, pool)


def bottom_mask(forking: torch.Tensor, completion_mask: torch.Tensor) -> torch.Tensor:
    """The complement of ``forking`` within the completion (bottom ``1 - rho``). ``[B, L]`` in and out."""
    return completion_mask.bool() & ~forking.bool()


def random_matched_mask(
    completion_mask: torch.Tensor, counts: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Exactly ``counts[b]`` completion tokens of row ``b``, drawn uniformly without replacement.

    Args:
        completion_mask: ``[B, L]`` bool/int.
        counts: ``[B]`` int, each ``<=`` the row's completion tokens (e.g. ``forking.sum(1)``).
    Returns: ``[B, L]`` bool.
    """
    valid = completion_mask.bool()
    n_valid = valid.sum(1)
    if bool((counts > n_valid).any()) or bool((counts < 0).any()):
        raise ValueError("counts: each row's count must lie in [0, its completion tokens]")
    scores = torch.rand(valid.shape, generator=generator, device="cpu").to(valid.device)
    scores = scores.masked_fill(~valid, -1.0)  # rand is in [0, 1): invalid positions sort last
    order = scores.argsort(dim=1, descending=True)
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(valid.shape[1], device=valid.device).expand_as(order))
    return (ranks < counts.to(valid.device).unsqueeze(1)) & valid


def token_nll(logits: torch.Tensor, labels: torch.Tensor, *, log_probs: bool = False) -> torch.Tensor:
    """``-log softmax(logits)[label]`` per position. logits ``[B, L, V]`` (``log_probs=True``: already
    log-probabilities, used as they are), labels ``[B, L]`` aligned (``logits[:, t]`` predicts
    ``labels[:, t]``); labels outside the vocabulary (e.g. -100) give 0. Returns ``[B, L]`` float32."""
    lp = logits.float() if log_probs else F.log_softmax(logits.float(), dim=-1)
    safe = labels.clamp(min=0, max=lp.shape[-1] - 1)
    nll = -lp.gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    return nll.masked_fill((labels < 0) | (labels >= lp.shape[-1]), 0.0)


def masked_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    mask: torch.Tensor,
    completion_mask: torch.Tensor,
    normalize: str = "all",
    *,
    log_probs: bool = False,
) -> torch.Tensor:
    """Sum of NLL over ``mask`` divided by the completion tokens (``all``) or by the ``mask`` tokens
    (``selected``); 0 when the denominator is 0.

    Args:
        logits: ``[B, L, V]`` logits (or, with ``log_probs=True``, log-probabilities), aligned with ``labels``.
        labels: ``[B, L]`` int.
        mask: ``[B, L]`` bool, the selected tokens (a subset of the completion).
        completion_mask: ``[B, L]`` bool/int.
    Returns: scalar.
    """
    if normalize not in NORMALIZERS:
        raise ValueError(f"normalize: expected one of {', '.join(NORMALIZERS)}, got {normalize!r}")
    sel = mask.bool() & completion_mask.bool()
    total = (token_nll(logits, labels, log_probs=log_probs) * sel).sum()
    denom = completion_mask.bool().sum() if normalize == "all" else sel.sum()
    return total / denom.clamp(min=1)


def entropy_from_logits(logits: torch.Tensor, *, log_probs: bool = False) -> torch.Tensor:
    """H = -sum p log p over the vocabulary at each position (nats, T = 1). ``[B, L, V]`` -> ``[B, L]``;
    ``log_probs=True``: the input is already log-probabilities."""
    lp = logits.float() if log_probs else F.log_softmax(logits.float(), dim=-1)
    return -(lp.exp() * lp).sum(-1)
