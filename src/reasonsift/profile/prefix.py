"""Mean NLL of chosen tokens in many sequences that share a long token prefix, at the cost of about one pass.

Information gain (arXiv 2506.02126) needs, for i = 0..n steps, the NLL of the answer tokens given the question
and the first i steps of the trace. Scoring each prefix rendering separately costs n + 1 passes over the whole
trace, each sending every completion position through the LM head. Here the longest shared rendering runs once
through the backbone with a KV cache; each sequence then runs only the tokens where it departs from the cached
one (typically the end of its last step, ``</think>``, the answer and the template's closing tokens) against the
cache cropped to the shared prefix, and only the positions that count go through the LM head. Sequences are
visited from the longest shared prefix to the shortest, so the cache is only ever cropped, never copied: cost
grows with trace length + steps x answer length, not steps x trace length x vocabulary.

Exact by construction: each sequence is tokenized on its own (as a separate pass would be) and the cache is
reused only up to its longest common *token* prefix with the cached sequence, so BPE merges across a step
boundary are honoured. Models whose cache cannot be cropped (sliding-window layers past their window,
recurrent or quantized layers) are scored by separate passes instead (:func:`separate_nlls`), same numbers.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

import numpy as np
import torch

from reasonsift.profile.scoring import Request, Scorer


@dataclass
class Target:
    """One sequence and the positions whose token log-probs are averaged (each ``>= 1``; position ``t`` is
    predicted by the output at ``t - 1``)."""

    input_ids: list[int]
    positions: np.ndarray  # int64, sorted ascending


def _lcp(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _croppable(cache, total_len: int) -> bool:
    """Every layer of ``cache`` is a plain dynamic layer, or a sliding-window one that never fills its window
    (then cropping restores it exactly)."""
    layers = getattr(cache, "layers", None)
    if not layers or not hasattr(cache, "crop"):
        return False
    for layer in layers:
        name = type(layer).__name__
        if name == "DynamicLayer":
            continue
        window = getattr(layer, "sliding_window", None)
        if name == "DynamicSlidingWindowLayer" and window and total_len < window:
            continue
        return False
    return True


def _cache_kwarg(body) -> str:
    """transformers renamed ``past_key_values`` to ``cache`` (5.x, old name deprecated); take what is there."""
    try:
        return "cache" if "cache" in inspect.signature(body.forward).parameters else "past_key_values"
    except (TypeError, ValueError):
        return "past_key_values"


def _returned_cache(out):
    c = getattr(out, "cache", None)
    return c if c is not None else out.past_key_values


def separate_nlls(scorer: Scorer, targets: list[Target], *, batch_size: int, max_tokens: int) -> list[float]:
    """The reference: each sequence scored by its own teacher-forced pass (log-probs only)."""
    out = [math.nan] * len(targets)
    todo = [i for i, t in enumerate(targets) if len(t.positions)]
    if not todo:
        return out
    reqs = []
    for i in todo:
        t = targets[i]
        reqs.append(Request(t.input_ids, int(t.positions[0])))
    scores = scorer.score(
        reqs, batch_size=batch_size, max_tokens_per_batch=max_tokens, logprob_only=True
    ).scores
    for i, sc in zip(todo, scores, strict=True):
        t = targets[i]
        lp = sc.logprob[t.positions - t.positions[0]].astype(np.float64)
        out[i] = float(-lp.mean())
    return out


@torch.inference_mode()
def cached_nlls(scorer: Scorer, targets: list[Target]) -> list[float] | None:
    """Mean NLL of each target's positions, reusing one KV cache (see the module docstring); ``None`` when the
    model's cache cannot be cropped, or in exact-logits mode (use :func:`separate_nlls`)."""
    if getattr(scorer, "exact", False) or scorer.body is None:
        return None  # --exact-logits: the model's own forward on each prefix (slower, never unchecked)
    out = [math.nan] * len(targets)
    todo = [i for i, t in enumerate(targets) if len(t.positions)]
    if not todo:
        return out
    base = max((targets[i].input_ids for i in todo), key=len)
    # Reuse the cache up to the shared token prefix, but always re-run the position before the first counted
    # token (its output predicts that token) and at least one token.
    start = {}
    for i in todo:
        t = targets[i]
        start[i] = max(0, min(_lcp(t.input_ids, base), int(t.positions[0]) - 1, len(t.input_ids) - 1))
    prefill = max(start.values())
    longest = prefill + max(len(targets[i].input_ids) - start[i] for i in todo)
    dev = scorer.device
    cache = None
    if prefill > 0:
        ids = torch.tensor([base[:prefill]], dtype=torch.long, device=dev)
        cache = _returned_cache(scorer.eager_body(input_ids=ids, use_cache=True))
        if not _croppable(cache, longest):
            return None
    name = _cache_kwarg(scorer.eager_body)
    hidden, tgt, owner = [], [], []
    for i in sorted(todo, key=lambda j: (-start[j], j)):
        t, s = targets[i], start[i]
        if cache is not None:
            cache.crop(s - cache.get_seq_length())  # a negative count removes that many cached tokens
        ids = torch.tensor([t.input_ids[s:]], dtype=torch.long, device=dev)
        kw = {name: cache, "use_cache": True} if cache is not None and s > 0 else {}
        res = scorer.eager_body(input_ids=ids, **({"use_cache": False} | kw))
        h = res[0] if isinstance(res, tuple) else res.last_hidden_state
        rel = torch.as_tensor(t.positions - 1 - s, device=dev)
        hidden.append(h[0, rel])
        tgt.append(torch.as_tensor(np.asarray(t.input_ids)[t.positions], device=dev))
        owner.append((i, len(rel)))
    lp = scorer.target_logprobs(torch.cat(hidden), torch.cat(tgt)).double().cpu().numpy()
    k = 0
    for i, n in owner:
        out[i] = float(-lp[k : k + n].mean())
        k += n
    return out
