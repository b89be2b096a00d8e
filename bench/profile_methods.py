"""The methods ``profile_bench.py`` compares: ways to get per-token entropy and target log-prob.

Every method maps ``(runner, batch)`` to ``(entropy [N], logprob [N])`` float32 over the scored positions of
the batch in row-major order (``N = batch.score_mask.sum()``), so outputs can be compared element-wise;
``backbone_only`` returns the gathered hidden states instead (it is the ceiling, not a scorer). All run
under ``torch.inference_mode()`` with ``use_cache=False`` (a KV cache would add memory no scorer needs).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from reasonsift.models.introspect import backbone, head_vocab_size, logits_fn, output_head
from reasonsift.ops.entropy import chunked_token_stats, stats_from_logits

Output = tuple[torch.Tensor, torch.Tensor | None]


@dataclass
class Runner:
    """A model with the pieces the methods need, compiled once if asked."""

    model: nn.Module
    chunk_rows: int | None = None
    compile: bool = False
    body: nn.Module = field(init=False)
    body_compiled: Callable | None = field(init=False, default=None)
    stats_compiled: Callable | None = field(init=False, default=None)
    scorer: object | None = field(init=False, default=None)  # reasonsift.profile.scoring.Scorer, built lazily
    requests: dict = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.body = backbone(self.model)
        self.head = output_head(self.model)
        self.vocab_size = head_vocab_size(self.head)
        self.logits_fn = logits_fn(self.model)  # the head plus the model's post-head transform
        if self.compile:
            self.body_compiled = torch.compile(self.body)
            # Chunk rows vary (the last chunk is short), hence dynamic shapes.
            self.stats_compiled = torch.compile(stats_from_logits, dynamic=True)


def _hidden(body: Callable, batch) -> torch.Tensor:
    """``[N, d]`` final hidden states of the scored positions."""
    h = body(input_ids=batch.input_ids, attention_mask=batch.attention_mask, use_cache=False)
    return h.last_hidden_state[:, :-1][batch.score_mask]


def _entropy_logprob_fp32(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The plain recipe of IFD-style scripts: ``logits [..., V]`` upcast to fp32, log_softmax, gather."""
    logp = F.log_softmax(logits.float(), dim=-1)
    entropy = -(logp.exp() * logp).sum(-1)
    return entropy, logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)


def backbone_only(r: Runner, batch) -> Output:
    return _hidden(r.body, batch), None


def backbone_only_compiled(r: Runner, batch) -> Output:
    return _hidden(r.body_compiled, batch), None


def _reasonsift(r: Runner, batch, body: Callable, stats_fn: Callable) -> Output:
    st = chunked_token_stats(
        _hidden(body, batch),
        r.logits_fn,
        batch.targets,
        vocab_size=r.vocab_size,
        chunk_rows=r.chunk_rows,
        stats_fn=stats_fn,
    )
    return st.entropy, st.logprob


def reasonsift(r: Runner, batch) -> Output:
    return _reasonsift(r, batch, r.body, stats_from_logits)


def reasonsift_compiled(r: Runner, batch) -> Output:
    return _reasonsift(r, batch, r.body_compiled, r.stats_compiled)


def _requests(r: Runner, batch) -> list:
    """The batch as the profiling engine's ``Request`` list (built once per batch, outside the timing)."""
    from reasonsift.profile.scoring import Request

    key = id(batch)
    if key not in r.requests:
        reqs = []
        for i in range(batch.input_ids.shape[0]):
            n = int(batch.attention_mask[i].sum())
            keep = batch.score_mask[i, : n - 1].nonzero().flatten()
            start = int(keep[0]) + 1 if len(keep) else n
            # The engine scores one contiguous tail per sequence; the workloads here are built that way.
            if len(keep) != n - start:
                raise ValueError("score_mask: the profiling engine scores a contiguous tail per sequence")
            reqs.append(Request(batch.input_ids[i, :n].tolist(), start))
        r.requests[key] = (batch, reqs)  # keep the batch alive so its id() is not reused
    return r.requests[key][1]


def profile_scorer(r: Runner, batch) -> Output:
    """``reasonsift.profile.scoring.Scorer.forward_batch``: the engine ``reasonsift profile`` runs, padding
    and host copies included (the same core as ``reasonsift`` above, plus what a real run pays around it)."""
    if r.scorer is None:
        from reasonsift.profile.scoring import Scorer

        r.scorer = Scorer(r.model, pad_id=0, chunk_rows=r.chunk_rows)
    scores = r.scorer.forward_batch(_requests(r, batch), temperature=1.0, top_k=0)
    ent = torch.from_numpy(np.concatenate([s.entropy for s in scores]))
    return ent, torch.from_numpy(np.concatenate([s.logprob for s in scores]))


def per_example_fp32(r: Runner, batch) -> Output:
    """One unpadded forward per example with full fp32 logits (Cherry LLM's IFD scoring loop)."""
    ents, lps = [], []
    for i in range(batch.input_ids.shape[0]):
        n = int(batch.attention_mask[i].sum())  # right padding: the example is the first n tokens
        ids = batch.input_ids[i : i + 1, :n]
        logits = r.model(input_ids=ids, use_cache=False).logits[0, :-1]
        ent, lp = _entropy_logprob_fp32(logits, ids[0, 1:])
        keep = batch.score_mask[i, : n - 1]
        ents.append(ent[keep])
        lps.append(lp[keep])
        del logits, ent, lp
    return torch.cat(ents), torch.cat(lps)


def batched_fp32(r: Runner, batch) -> Output:
    """One padded forward, the whole ``[B, L, V]`` logits upcast to fp32."""
    out = r.model(input_ids=batch.input_ids, attention_mask=batch.attention_mask, use_cache=False)
    ent, lp = _entropy_logprob_fp32(out.logits[:, :-1], batch.input_ids[:, 1:])
    return ent[batch.score_mask], lp[batch.score_mask]


def trl(r: Runner, batch) -> Output:
    """TRL's ``entropy_from_logits`` + ``selective_log_softmax`` on full logits (as GRPOTrainer uses them).

    On CUDA with triton they dispatch to TRL's fused kernel; elsewhere to their chunked PyTorch loops.
    """
    from trl.trainer.utils import entropy_from_logits, selective_log_softmax

    out = r.model(input_ids=batch.input_ids, attention_mask=batch.attention_mask, use_cache=False)
    logits = out.logits[:, :-1]
    ent = entropy_from_logits(logits)
    lp = selective_log_softmax(logits, batch.input_ids[:, 1:])
    return ent[batch.score_mask].float(), lp[batch.score_mask].float()


METHODS: dict[str, Callable[[Runner, object], Output]] = {
    "backbone_only": backbone_only,
    "reasonsift": reasonsift,
    "per_example_fp32": per_example_fp32,
    "batched_fp32": batched_fp32,
    "trl": trl,
}
if importlib.util.find_spec("reasonsift.profile.scoring") is not None:
    METHODS["profile_scorer"] = profile_scorer
COMPILED: dict[str, Callable[[Runner, object], Output]] = {
    "backbone_only_compiled": backbone_only_compiled,
    "reasonsift_compiled": reasonsift_compiled,
}
ALL_METHODS = {**METHODS, **COMPILED}
# Each method's throughput is compared with the backbone-only ceiling of the same compile mode.
CEILING = {name: "backbone_only_compiled" if name in COMPILED else "backbone_only" for name in ALL_METHODS}
