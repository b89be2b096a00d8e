"""Teacher-forced scoring of many sequences: length-bucketed batches, backbone once, LM head in row chunks.

Never materialises ``batch x length x vocab`` logits: the backbone gives ``[B, L, d]`` hidden states, only
the positions that predict a scored token are gathered (``[N, d]``), and the head runs over row chunks with
fp32 statistics (:func:`reasonsift.ops.entropy.chunked_token_stats`). Alignment (TRL's convention): the
hidden state at position ``t - 1`` gives the distribution that token ``t`` was drawn from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from reasonsift.ops.entropy import (
    _apply_head,
    backbone,
    chunked_token_stats,
    default_chunk_rows,
    final_logit_softcap,
    logprob_from_logits,
    stats_from_logits,
)


@dataclass
class Request:
    input_ids: list[int]
    score_start: int  # first scored position, >= 1


@dataclass
class Scores:
    """Per scored token of one request (positions ``score_start .. len - 1``)."""

    entropy: np.ndarray  # [n] float32
    logprob: np.ndarray  # [n] float32
    rank: np.ndarray  # [n] int32
    top_ids: np.ndarray | None = None  # [n, k] int32
    top_logprobs: np.ndarray | None = None  # [n, k] float32


@dataclass
class ScoreRun:
    scores: list[Scores]  # input order
    batches: list[list[int]]  # request indices per forward pass
    tokens: int = 0  # real tokens run through the backbone
    padded_tokens: int = 0  # rows x longest row, summed over batches
    extra: dict = field(default_factory=dict)


def make_batches(lengths: list[int], batch_size: int, max_tokens: int) -> list[list[int]]:
    """Bucket by length: sort longest first (ties by index, so the result is deterministic), then fill each
    batch while it has fewer than ``batch_size`` rows and ``rows x longest <= max_tokens`` (a single longer
    sequence forms its own batch)."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    cur: list[int] = []
    for i in order:
        if cur and (len(cur) >= batch_size or (len(cur) + 1) * lengths[cur[0]] > max_tokens):
            batches.append(cur)
            cur = []
        cur.append(i)
    if cur:
        batches.append(cur)
    return batches


class Scorer:
    """Scores requests with one causal LM. ``compile=True`` wraps the backbone and the per-chunk statistics
    in ``torch.compile`` (dynamic shapes); results are the same either way up to float rounding."""

    def __init__(self, model, pad_id: int, *, chunk_rows: int | None = None, compile: bool = False):
        self.model = model.eval()
        self.body = backbone(model)
        self.head = model.get_output_embeddings()
        self.softcap = final_logit_softcap(model)
        self.pad_id = pad_id
        self.chunk_rows = chunk_rows
        self.stats_fn: Callable = stats_from_logits
        if compile:
            self.body = torch.compile(self.body, dynamic=True)
            self.stats_fn = torch.compile(stats_from_logits, dynamic=True)
        self.device = next(model.parameters()).device

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """``[N, d]`` final hidden states -> ``[N, V]`` logits exactly as the model's forward computes them."""
        return _apply_head(self.head, hidden, self.softcap)

    def target_logprobs(
        self, hidden: torch.Tensor, targets: torch.Tensor, temperature: float = 1.0
    ) -> torch.Tensor:
        """``[N]`` log p(target) for ``[N, d]`` hidden states, the head over row chunks; no other statistic."""
        vocab = getattr(self.head, "out_features", None) or self.head.weight.shape[0]
        rows = self.chunk_rows or default_chunk_rows(vocab)
        parts = [
            logprob_from_logits(self.logits(hidden[s : s + rows]), targets[s : s + rows], temperature)
            for s in range(0, hidden.shape[0], rows)
        ]
        return torch.cat(parts) if parts else hidden.new_zeros(0, dtype=torch.float32)

    @torch.inference_mode()
    def forward_batch(
        self, reqs: list[Request], temperature: float, top_k: int, logprob_only: bool = False
    ) -> list[Scores]:
        for r in reqs:
            if r.score_start < 1 or r.score_start > len(r.input_ids):
                raise ValueError(f"score_start: expected 1..{len(r.input_ids)}, got {r.score_start}")
        longest = max(len(r.input_ids) for r in reqs)
        ids = torch.full((len(reqs), longest), self.pad_id, dtype=torch.long)
        att = torch.zeros((len(reqs), longest), dtype=torch.long)
        rows, cols, targets = [], [], []
        for b, r in enumerate(reqs):
            n = len(r.input_ids)
            ids[b, :n] = torch.tensor(r.input_ids, dtype=torch.long)
            att[b, :n] = 1
            pos = torch.arange(r.score_start - 1, n - 1)  # position t-1 predicts token t
            rows.append(torch.full_like(pos, b))
            cols.append(pos)
            targets.append(ids[b, r.score_start : n])
        ids, att = ids.to(self.device), att.to(self.device)
        out = self.body(input_ids=ids, attention_mask=att, use_cache=False)
        hidden = out[0] if isinstance(out, tuple) else out.last_hidden_state
        r_idx, c_idx = torch.cat(rows).to(self.device), torch.cat(cols).to(self.device)
        if logprob_only:
            lp = self.target_logprobs(hidden[r_idx, c_idx], torch.cat(targets).to(self.device), temperature)
            return _split(reqs, lp.float().cpu().numpy())
        st = chunked_token_stats(
            hidden[r_idx, c_idx],
            self.head,
            torch.cat(targets).to(self.device),
            temperature=temperature,
            top_k=top_k,
            chunk_rows=self.chunk_rows,
            softcap=self.softcap,
            stats_fn=self.stats_fn,
        )
        ent, lp = st.entropy.float().cpu().numpy(), st.logprob.float().cpu().numpy()
        rank = st.rank.cpu().numpy().astype(np.int32)
        tid = st.top_ids.cpu().numpy().astype(np.int32) if st.top_ids is not None else None
        tlp = st.top_logprobs.float().cpu().numpy() if st.top_logprobs is not None else None
        res, s = [], 0
        for r in reqs:
            n = len(r.input_ids) - r.score_start
            sl = slice(s, s + n)
            res.append(
                Scores(
                    ent[sl],
                    lp[sl],
                    rank[sl],
                    None if tid is None else tid[sl],
                    None if tlp is None else tlp[sl],
                )
            )
            s += n
        return res

    def score(
        self,
        reqs: list[Request],
        *,
        temperature: float = 1.0,
        top_k: int = 0,
        batch_size: int = 16,
        max_tokens_per_batch: int = 16384,
        on_batch: Callable[[int, int], None] | None = None,
        logprob_only: bool = False,
    ) -> ScoreRun:
        """Score every request; results in input order. ``on_batch(n_requests, n_tokens)`` after each pass.
        ``logprob_only``: only ``Scores.logprob`` is filled (entropy and rank are empty arrays)."""
        lengths = [len(r.input_ids) for r in reqs]
        batches = make_batches(lengths, batch_size, max_tokens_per_batch)
        scores: list[Scores | None] = [None] * len(reqs)
        run = ScoreRun([], batches)
        for batch in batches:
            for i, sc in zip(
                batch,
                self.forward_batch([reqs[i] for i in batch], temperature, top_k, logprob_only),
                strict=True,
            ):
                scores[i] = sc
            real = sum(lengths[i] for i in batch)
            run.tokens += real
            run.padded_tokens += len(batch) * lengths[batch[0]]
            if on_batch:
                on_batch(len(batch), real)
        run.scores = scores  # type: ignore[assignment]
        return run


def _split(reqs: list[Request], lp: np.ndarray) -> list[Scores]:
    """Per-request ``Scores`` holding log-probs only (``logprob_only`` passes)."""
    out, s = [], 0
    empty_f, empty_i = np.zeros(0, np.float32), np.zeros(0, np.int32)
    for r in reqs:
        n = len(r.input_ids) - r.score_start
        out.append(Scores(empty_f, lp[s : s + n], empty_i))
        s += n
    return out
