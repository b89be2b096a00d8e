"""Hybrid decoding (CLAIMS.md C2; Venhoff et al., "Base Models Know How to Reason, Thinking Models Learn When",
arXiv 2510.07364): the base model decodes greedily; where its greedy next token differs from the post-trained
model's greedy next token on the same prefix, the post-trained model's token is used (a *steered* token).

The paper steers the base model's activations with steering vectors at positions a thinking model picks; this is
the token-level version CLAIMS.md states ("the post-trained model's choice"). Two consequences to know before
reading a result:

- Steering wherever the two disagree reproduces the post-trained model's greedy decoding exactly: by induction
  over steps, if the prefix so far equals the trained model's greedy prefix, the token emitted is the trained
  model's argmax on that prefix (it is either the base model's token, equal to it, or steered to it). So
  ``acc_hybrid = acc_trained`` and gap recovered is 1 by construction; what this variant measures is
  *fraction steered*: how few of the trained model's tokens the base model would not have chosen itself
  (the paper reports ~12% steered tokens; compare URIAL's "token distribution shift", arXiv 2312.01552).
- ``only_forking=True`` steers only where the base model is uncertain: its next-token entropy (nats, T = 1,
  the C1 definition, arXiv 2506.01939) is at or above a threshold tau. Here gap recovered is an open
  question: does intervening only at the base model's forks recover the trained model's accuracy?

tau is ``threshold`` when given (e.g. the (1 - rho) quantile from a profile of the base model), else the
``(1 - rho)`` quantile of the pool: the base model's entropies at every position of its own greedy
completions of ``prompts`` (a first, base-only pass; prompt and padding positions excluded, the position that
predicts EOS included). The pool is the prompt set, not the batch, so results do not depend on batch size.

Decoding: prompts (rendered text) are tokenized without special tokens, sorted by length and batched with left
padding; both models keep a KV cache, so each step is one forward of each model over one token per row.
Ties in argmax go to the lowest token id (``torch.argmax``) for both models.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from reasonsift.evaluate.metrics import DEFAULT_ALPHA, DEFAULT_N_BOOT, bootstrap_indices
from reasonsift.ops.entropy import stats_from_logits
from reasonsift.ops.masks import DEFAULT_RHO, check_rho, forking_threshold


@dataclass
class HybridOutput:
    """One prompt's hybrid completion. ``n_generated`` counts every decoded token including the EOS that ends
    it (the decision to stop is a token and may be steered); ``steered[i]`` marks token ``token_ids[i]``."""

    text: str  # special tokens removed
    token_ids: list[int]
    steered: list[bool]
    finish_reason: str  # "eos" | "length"

    @property
    def n_generated(self) -> int:
        return len(self.token_ids)

    @property
    def n_steered(self) -> int:
        return sum(self.steered)


@dataclass
class HybridResult:
    outputs: list[HybridOutput]  # in prompt order
    threshold: float | None = None  # tau in nats (only_forking); None: steered wherever the two disagree
    rho: float | None = None  # the share tau was derived from, when it was derived from the pool
    base_entropy_pool: int = 0  # number of base entropies tau was computed from (0 when given)
    config: dict = field(default_factory=dict)

    @property
    def texts(self) -> list[str]:
        return [o.text for o in self.outputs]

    @property
    def n_generated(self) -> int:
        return sum(o.n_generated for o in self.outputs)

    @property
    def n_steered(self) -> int:
        return sum(o.n_steered for o in self.outputs)

    @property
    def fraction_steered(self) -> float:
        """Steered tokens / generated tokens over all prompts (arXiv 2510.07364); ``nan`` if none generated."""
        return self.n_steered / self.n_generated if self.n_generated else math.nan

    def to_dict(self) -> dict:
        return {
            "fraction_steered": self.fraction_steered, "n_generated": self.n_generated,
            "n_steered": self.n_steered, "threshold": self.threshold, "rho": self.rho,
            "base_entropy_pool": self.base_entropy_pool, **self.config,
        }  # fmt: skip


def same_tokenizer(a: PreTrainedTokenizerBase, b: PreTrainedTokenizerBase) -> bool:
    """Same vocabulary (token -> id) and the same special-token ids: token ids mean the same in both."""
    specials = ("bos_token_id", "eos_token_id", "pad_token_id", "unk_token_id")
    return a.get_vocab() == b.get_vocab() and all(getattr(a, s) == getattr(b, s) for s in specials)


def _vocab_size(model: PreTrainedModel) -> int:
    head = model.get_output_embeddings()
    return int(head.weight.shape[0]) if head is not None else int(model.config.vocab_size)


def _cache_kwarg(model: PreTrainedModel) -> str:
    """transformers 5.x renamed ``past_key_values`` to ``cache`` (old name deprecated); use what is there."""
    try:
        return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
    except (TypeError, ValueError):
        return "past_key_values"


def _step_logits(model, ids, mask, pos, past):
    """Last-position logits ``[B, V]`` (float32, on the model's device) and the updated KV cache."""
    kw = {} if past is None else {_cache_kwarg(model): past}
    out = model(
        input_ids=ids.to(model.device), attention_mask=mask.to(model.device),
        position_ids=pos.to(model.device), use_cache=True, **kw,
    )  # fmt: skip
    cache = getattr(out, "cache", None)
    return out.logits[:, -1, :].float(), cache if cache is not None else out.past_key_values


@torch.no_grad()
def _decode_batch(
    base: PreTrainedModel,
    trained: PreTrainedModel | None,
    rows: list[list[int]],
    *,
    pad_id: int,
    eos_ids: set[int],
    max_new_tokens: int,
    threshold: float | None,
) -> list[tuple[list[int], list[bool], list[float], str]]:
    """Hybrid-decode one batch (``trained=None``: the base model alone, steering nothing).

    Returns per row ``(token_ids, steered, base_entropies, finish_reason)``; ``base_entropies[i]`` is the
    base model's entropy of the distribution that chose ``token_ids[i]``.
    """
    b, width = len(rows), max(len(r) for r in rows)
    ids = torch.full((b, width), pad_id, dtype=torch.long)
    mask = torch.zeros((b, width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r) :] = torch.tensor(r, dtype=torch.long)
        mask[i, width - len(r) :] = 1
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    z_base, past_base = _step_logits(base, ids, mask, pos, None)
    z_tr, past_tr = _step_logits(trained, ids, mask, pos, None) if trained is not None else (None, None)
    next_pos = pos[:, -1:] + 1
    toks: list[list[int]] = [[] for _ in rows]
    steer: list[list[bool]] = [[] for _ in rows]
    ents: list[list[float]] = [[] for _ in rows]
    done = torch.zeros(b, dtype=torch.bool)
    for _ in range(max_new_tokens):
        # Reduce [B, V] logits on each model's device; only [B] vectors come to the CPU.
        tok_base = z_base.argmax(-1)
        h = stats_from_logits(z_base, tok_base).entropy.cpu()  # nats, T = 1: the C1 entropy
        tok_base = tok_base.cpu()
        chosen, steered = tok_base, torch.zeros(b, dtype=torch.bool)
        if z_tr is not None:
            tok_tr = z_tr.argmax(-1).cpu()
            steered = tok_tr != tok_base
            if threshold is not None:
                steered &= h.double() >= threshold
            chosen = torch.where(steered, tok_tr, tok_base)
        for i in range(b):
            if not done[i]:
                toks[i].append(int(chosen[i]))
                steer[i].append(bool(steered[i]))
                ents[i].append(float(h[i]))
                done[i] = int(chosen[i]) in eos_ids
        if bool(done.all()):
            break
        step = torch.where(done, torch.full_like(chosen, pad_id), chosen)[:, None]
        mask = torch.cat([mask, torch.ones((b, 1), dtype=torch.long)], dim=1)  # finished rows: ignored
        z_base, past_base = _step_logits(base, step, mask, next_pos, past_base)
        if trained is not None:
            z_tr, past_tr = _step_logits(trained, step, mask, next_pos, past_tr)
        next_pos = next_pos + 1
    return [
        (t, s, e, "eos" if t and t[-1] in eos_ids else "length")
        for t, s, e in zip(toks, steer, ents, strict=True)
    ]


def _run(base, trained, enc, batch_size, **kw) -> list[tuple[list[int], list[bool], list[float], str]]:
    order = sorted(range(len(enc)), key=lambda i: len(enc[i]))
    out: list = [None] * len(enc)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        for i, r in zip(idx, _decode_batch(base, trained, [enc[i] for i in idx], **kw), strict=True):
            out[i] = r
    return out


def hybrid_decode(
    base: PreTrainedModel,
    trained: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    *,
    max_new_tokens: int,
    only_forking: bool = False,
    rho: float = DEFAULT_RHO,
    threshold: float | None = None,
    batch_size: int = 32,
    trained_tokenizer: PreTrainedTokenizerBase | None = None,
    eos_token_ids: Sequence[int] | None = None,
) -> HybridResult:
    """Greedy hybrid decoding of ``prompts`` (rendered text, generation prompt included); see the module doc.

    Args:
        base, trained: causal LMs over the same token ids (``tokenizer``); refused if their vocabularies
            differ in size, or if ``trained_tokenizer`` is given and is not the same tokenizer.
        only_forking: steer only where the base model's entropy >= tau (``threshold``, else the (1 - rho)
            quantile of the base model's entropies over its own greedy completions of ``prompts``).
        rho: share of forking tokens (0.2: Wang et al., arXiv 2506.01939); used when ``threshold`` is None.
        threshold: tau in nats (only with ``only_forking``): ``inf`` never steers, ``-inf`` steers wherever the
            models disagree.
        eos_token_ids: ids that end a completion (default: the tokenizer's EOS).
    """
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens: expected >= 1, got {max_new_tokens}")
    if batch_size < 1:
        raise ValueError(f"batch_size: expected >= 1, got {batch_size}")
    if threshold is not None and not only_forking:
        raise ValueError("threshold: only used with only_forking=True; pass only_forking=True or drop it")
    if threshold is not None and math.isnan(threshold):
        raise ValueError("threshold: expected a number of nats (inf and -inf allowed), got nan")
    check_rho(rho)
    if trained_tokenizer is not None and not same_tokenizer(tokenizer, trained_tokenizer):
        raise ValueError(
            "trained_tokenizer: the two models' tokenizers differ (vocabulary or special tokens); hybrid "
            "decoding compares token ids, so both models must share one tokenizer"
        )
    vb, vt = _vocab_size(base), _vocab_size(trained)
    if vb != vt:
        raise ValueError(
            f"trained: vocabulary size {vt} differs from the base model's {vb}; not one tokenizer"
        )
    if len(tokenizer) > vb:
        raise ValueError(f"tokenizer: {len(tokenizer)} tokens, more than the models' vocabulary of {vb}")
    eos = set(eos_token_ids) if eos_token_ids is not None else {tokenizer.eos_token_id}
    eos.discard(None)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    enc = [tokenizer(p, add_special_tokens=False).input_ids for p in prompts]
    if any(not e for e in enc):
        raise ValueError("prompts: an empty prompt has no position to decode from")
    kw = {"pad_id": pad_id, "eos_ids": eos, "max_new_tokens": max_new_tokens}
    modes = [(m, m.training) for m in (base, trained)]
    for m, _ in modes:
        m.eval()
    try:
        tau, pool_n, rho_used = threshold, 0, None
        if only_forking and threshold is None:
            base_only = _run(base, None, enc, batch_size, threshold=None, **kw)
            pool = torch.tensor([h for _, _, ents, _ in base_only for h in ents], dtype=torch.float64)
            tau = forking_threshold(pool, torch.ones_like(pool, dtype=torch.bool), rho)
            pool_n, rho_used = pool.numel(), rho
        rows = _run(base, trained, enc, batch_size, threshold=tau if only_forking else None, **kw)
    finally:
        for m, was in modes:
            m.train(was)
    outputs = [
        HybridOutput(tokenizer.decode(t, skip_special_tokens=True), t, s, reason) for t, s, _, reason in rows
    ]
    cfg = {"only_forking": only_forking, "max_new_tokens": max_new_tokens, "batch_size": batch_size}
    return HybridResult(outputs, tau if only_forking else None, rho_used, pool_n, cfg)


def gap_recovered(acc_base: float, acc_trained: float, acc_hybrid: float) -> float | None:
    """``(acc_hybrid - acc_base) / (acc_trained - acc_base)`` (arXiv 2510.07364); None when trained == base.

    1 means the hybrid reaches the trained model; 0 means no better than the base; it can be negative or
    above 1, and is unstable when the gap is small.

    >>> gap_recovered(0.2, 0.6, 0.5)
    0.75
    """
    gap = acc_trained - acc_base
    return None if gap == 0 else (acc_hybrid - acc_base) / gap


def gap_recovered_ci(
    base: np.ndarray,
    trained: np.ndarray,
    hybrid: np.ndarray,
    *,
    n_boot: int = DEFAULT_N_BOOT,
    alpha: float = DEFAULT_ALPHA,
    seed: int = 0,
) -> dict:
    """Gap recovered from per-question scores of the three arms on the same questions, with a percentile
    bootstrap CI that resamples question indices jointly for the three arms (as ``paired_bootstrap``).

    Args:
        base, trained, hybrid: ``[Q]`` per-question correctness (0/1) or solve rates, aligned by question.
    Returns ``{"gap_recovered", "ci_low", "ci_high", "n_undefined"}``: replicates where the resampled trained
    and base accuracies are equal have no ratio and are dropped (``n_undefined`` counts them); values are None
    where undefined.
    """
    x = [np.asarray(v, dtype=np.float64) for v in (base, trained, hybrid)]
    if not (x[0].ndim == 1 and x[0].shape == x[1].shape == x[2].shape):
        raise ValueError(f"hybrid: expected three [Q] arrays of one shape, got {[v.shape for v in x]}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: expected 0 < alpha < 1, got {alpha}")
    q = x[0].shape[0]
    point = gap_recovered(*(float(v.mean()) for v in x)) if q else None
    if point is None:
        return {"gap_recovered": None, "ci_low": None, "ci_high": None, "n_undefined": n_boot}
    idx = bootstrap_indices(q, n_boot=n_boot, seed=seed)
    mb, mt, mh = (v[idx].mean(1) for v in x)
    ok = mt != mb
    reps = (mh[ok] - mb[ok]) / (mt[ok] - mb[ok])
    lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2]) if reps.size else (None, None)
    return {
        "gap_recovered": point,
        "ci_low": None if lo is None else float(lo),
        "ci_high": None if hi is None else float(hi),
        "n_undefined": int((~ok).sum()),
    }


__all__ = [
    "HybridOutput",
    "HybridResult",
    "gap_recovered",
    "gap_recovered_ci",
    "hybrid_decode",
    "same_tokenizer",
]
