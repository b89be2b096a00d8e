"""Per-token entropy, log-probability and rank from hidden states, chunked over token rows.

Never materialises ``N x V`` logits at once: the LM head (a caller-supplied ``logits_fn``) runs over
``chunk_rows`` rows at a time and each chunk's statistics are computed in float32, so peak memory is
``O(chunk_rows x V)`` whatever the batch and sequence length. Alignment convention (TRL's): the distribution
at position ``t`` predicts token ``t + 1``; callers pass the hidden state of position ``t`` together with the
*target* id at ``t + 1``. Pure tensor math: which module is the head and what the model does after it is
:mod:`reasonsift.models.introspect`'s business.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

# Rows per chunk are derived from the vocabulary so one fp32 chunk of logits is about this many bytes.
DEFAULT_CHUNK_BYTES = 256 * 2**20


@dataclass
class TokenStats:
    """Statistics per scored row. Shapes: ``[N]`` except ``top_ids``/``top_logprobs`` ``[N, k]``."""

    entropy: torch.Tensor  # nats, float32
    logprob: torch.Tensor  # log p(target), float32
    rank: torch.Tensor  # 0-based: number of vocabulary entries strictly more likely than the target, int64
    top_ids: torch.Tensor | None = None
    top_logprobs: torch.Tensor | None = None


def default_chunk_rows(vocab_size: int, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> int:
    return max(1, chunk_bytes // (4 * max(1, vocab_size)))


def stats_from_logits(
    logits: torch.Tensor, targets: torch.Tensor, temperature: float = 1.0, top_k: int = 0
) -> TokenStats:
    """Entropy, target log-prob and rank from one chunk of logits.

    Args:
        logits: ``[N, V]`` any float dtype; upcast to float32 here.
        targets: ``[N]`` int64 target ids.
        temperature: ``p = softmax(logits / temperature)``.
        top_k: also return the ``k`` most likely ids and their log-probs (0 = none).
    """
    z = logits.float()
    if temperature != 1.0:
        z = z / temperature
    # Memory: at most two [N, V] fp32 buffers live at once (z and p) plus a bool mask for the rank, so the
    # chunk costs ~2.25x its fp32 logits. H = logsumexp(z) - sum_j p_j z_j (the same quantity as
    # -sum p log p); p * z is 0 where p underflows, except 0 * -inf = nan for masked logits, zeroed here.
    # (A batched-matmul dot product is 7x faster on CPU but its fp32 accumulation over 150k terms is off by
    # ~2e-3 nats; torch's sum is accurate to 1e-5 — tested against float64.)
    lse = torch.logsumexp(z, dim=-1, keepdim=True)
    p = (z - lse).exp_()
    mean_z = p.mul_(z).nan_to_num_(nan=0.0).sum(-1)
    del p
    lse = lse.squeeze(-1)
    entropy = (lse - mean_z).clamp_(min=0.0)
    tgt = targets.long().unsqueeze(-1)
    z_t = z.gather(-1, tgt)
    lp = z_t.squeeze(-1) - lse
    rank = torch.gt(z, z_t).sum(-1, dtype=torch.int64)
    top_ids = top_lp = None
    if top_k > 0:
        top_z, top_ids = z.topk(min(top_k, z.shape[-1]), dim=-1)
        top_lp = top_z - lse.unsqueeze(-1)
    return TokenStats(entropy, lp, rank, top_ids, top_lp)


def chunked_token_stats(
    hidden: torch.Tensor,
    logits_fn: Callable[[torch.Tensor], torch.Tensor],
    targets: torch.Tensor,
    *,
    vocab_size: int | None = None,
    temperature: float = 1.0,
    top_k: int = 0,
    chunk_rows: int | None = None,
    stats_fn: Callable[..., TokenStats] = stats_from_logits,
) -> TokenStats:
    """Map ``hidden`` to logits in row chunks with ``logits_fn`` and reduce each chunk to :class:`TokenStats`.

    Args:
        hidden: ``[N, d]`` final (post-norm) hidden states of the positions that predict ``targets``.
        logits_fn: ``[n, d] -> [n, V]``: the LM head and whatever the model's ``forward`` does after it
            (scaling, soft-capping); see :meth:`reasonsift.profile.scoring.Scorer.logits`.
        targets: ``[N]`` ids of the tokens those positions predict.
        vocab_size: ``V``, to size the chunks when ``chunk_rows`` is not given.
        chunk_rows: rows per chunk (default from ``vocab_size``: ~256 MiB of fp32 logits).
        stats_fn: the per-chunk reduction (swap in a ``torch.compile``-d version for speed).
    """
    if chunk_rows is None and vocab_size is None:
        raise ValueError("chunked_token_stats: pass chunk_rows or vocab_size (to size the chunks)")
    n = hidden.shape[0]
    rows = chunk_rows or default_chunk_rows(vocab_size)
    parts: list[TokenStats] = []
    for s in range(0, n, rows):
        z = logits_fn(hidden[s : s + rows])
        parts.append(stats_fn(z, targets[s : s + rows], temperature, top_k))
        del z
    return concat_stats(parts, device=hidden.device)


def concat_stats(parts: list[TokenStats], device: torch.device | str | None = None) -> TokenStats:
    """Concatenate per-chunk :class:`TokenStats` along the rows (empty stats on ``device`` if no parts)."""
    if not parts:
        empty = torch.zeros(0, dtype=torch.float32, device=device)
        return TokenStats(empty, empty.clone(), empty.long(), None, None)
    cat = lambda xs: torch.cat(xs) if xs[0] is not None else None  # noqa: E731
    return TokenStats(
        cat([p.entropy for p in parts]),
        cat([p.logprob for p in parts]),
        cat([p.rank for p in parts]),
        cat([p.top_ids for p in parts]),
        cat([p.top_logprobs for p in parts]),
    )


def logprob_from_logits(
    logits: torch.Tensor, targets: torch.Tensor, temperature: float = 1.0
) -> torch.Tensor:
    """``log p(target)`` only, from one chunk of logits: one ``logsumexp`` and a gather (IFD and information
    gain need nothing else, and this is ~2-3x cheaper than :func:`stats_from_logits` over a 150k vocabulary).

    Args:
        logits: ``[N, V]`` any float dtype; upcast to float32 here.
        targets: ``[N]`` int64 target ids.
    Returns: ``[N]`` float32.
    """
    z = logits.float()
    if temperature != 1.0:
        z = z / temperature
    return z.gather(-1, targets.long().unsqueeze(-1)).squeeze(-1) - torch.logsumexp(z, dim=-1)
