"""Teacher-forced scoring of many sequences: length-bucketed batches, backbone once, LM head in row chunks.

Never materialises ``batch x length x vocab`` logits: the backbone gives ``[B, L, d]`` hidden states, only
the positions that predict a scored token are gathered (``[N, d]``), and the head plus the model's post-head
transform (:meth:`Scorer.logits`) runs over row chunks with fp32 statistics
(:func:`reasonsift.ops.entropy.chunked_token_stats`). A start-up probe checks that path against the model's
own ``forward(...).logits``; ``exact=True`` (``--exact-logits``) uses the full forward instead. Alignment
(TRL's convention): the hidden state at position ``t - 1`` gives the distribution that token ``t`` was
drawn from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from reasonsift.models.introspect import backbone, describe, head_vocab_size, logit_transform, output_head
from reasonsift.ops.entropy import (
    TokenStats,
    chunked_token_stats,
    concat_stats,
    default_chunk_rows,
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


# Start-up probe: 2 rows x 12 tokens, the second right-padded after 8, so the attention-mask path is
# exercised. Tolerance on log-probs: PROBE_ATOL plus PROBE_EPS_MULT dtype epsilons of the largest logit.
# The body's hidden states are bitwise the ones forward() computes, so the only honest differences are the
# head's rounding (another GEMM shape: up to 1 ulp) and our float32 transform against the model's own dtype
# (Gemma's soft-cap rounds 3 more times in bf16): ~2.5 eps x |z| on a logit, twice that on a log-prob.
# Measured on CPU bf16 (Gemma 2, cap 30, |z| ~ 27): 0.7-0.9 eps x |z|; a missing transform moved log-probs
# by 25-1000 nats (soft-cap, Granite / 8, Cohere * 0.0625), far above 8 eps x |z| (~1.7 nats there).
PROBE_SHAPE = (2, 12)
PROBE_PAD_FROM = 8
PROBE_ATOL = 1e-3
PROBE_EPS_MULT = 8.0


class Scorer:
    """Scores requests with one causal LM. ``compile=True`` wraps the backbone and the per-chunk statistics
    in ``torch.compile`` (dynamic shapes); results are the same either way up to float rounding.

    Default (chunked) mode: the backbone runs once per batch, the scored positions are gathered and
    :meth:`logits` (the head plus the model's post-head transform) runs over row chunks; the constructor
    first checks that path against ``model(...).logits`` (:meth:`check_logits`) and refuses a model it
    cannot reproduce. ``exact=True``: the model's own ``forward(...).logits``, a few sequences at a time so
    ``rows x L x V`` fp32 stays within the chunk budget (at least one sequence), then the same statistics:
    slower and more memory, always right.
    """

    def __init__(
        self,
        model,
        pad_id: int,
        *,
        chunk_rows: int | None = None,
        compile: bool = False,
        exact: bool = False,
    ):
        self.model = model.eval()
        self.pad_id = pad_id
        self.chunk_rows = chunk_rows
        self.exact = exact
        self.device = next(model.parameters()).device
        self.stats_fn: Callable = stats_from_logits
        self.probe_diff: float | None = None  # max |log p difference| found by check_logits()
        try:
            self.body = backbone(model)
            self.head = output_head(model)
        except ValueError:
            if not exact:
                raise
            self.body = self.head = None  # exact mode needs neither
        self.transform = logit_transform(model)
        self.vocab_size = head_vocab_size(self.head) if self.head is not None else model.config.vocab_size
        self.eager_body = self.body
        self._full = model
        if not exact:
            self.check_logits()
        if compile:
            if exact:
                self._full = torch.compile(model, dynamic=True)
            else:
                self.body = torch.compile(self.body, dynamic=True)
            self.stats_fn = torch.compile(stats_from_logits, dynamic=True)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """``hidden [..., d]`` final hidden states -> ``[..., V]`` logits exactly as the model's ``forward``
        makes them: the LM head, then its post-head transform (:func:`reasonsift.models.introspect.
        logit_transform`; float32 when there is one). The one place hidden states become logits."""
        z = self.head(hidden)
        return self.transform(z) if self.transform is not None else z

    def target_logprobs(
        self, hidden: torch.Tensor, targets: torch.Tensor, temperature: float = 1.0
    ) -> torch.Tensor:
        """``[N]`` log p(target) for ``[N, d]`` hidden states, the head over row chunks; no other statistic."""
        rows = self.chunk_rows or default_chunk_rows(self.vocab_size)
        parts = [
            logprob_from_logits(self.logits(hidden[s : s + rows]), targets[s : s + rows], temperature)
            for s in range(0, hidden.shape[0], rows)
        ]
        return torch.cat(parts) if parts else hidden.new_zeros(0, dtype=torch.float32)

    @staticmethod
    def _last_hidden(out) -> torch.Tensor:
        return out[0] if isinstance(out, tuple) else out.last_hidden_state

    @torch.inference_mode()
    def check_logits(self) -> float:
        """Compare :meth:`logits` over the backbone with ``model(...).logits`` on a short deterministic probe
        (log-probs, real positions only). Returns the max abs difference; raises ``ValueError`` naming the
        architecture and pointing to ``--exact-logits`` when it exceeds the dtype's tolerance."""
        rows, length = PROBE_SHAPE
        emb = self.model.get_input_embeddings() if hasattr(self.model, "get_input_embeddings") else None
        n_ids = min(self.vocab_size, getattr(emb, "num_embeddings", None) or self.vocab_size)
        ids = torch.randint(0, n_ids, (rows, length), generator=torch.Generator().manual_seed(0))
        att = torch.ones_like(ids)
        ids[1, PROBE_PAD_FROM:], att[1, PROBE_PAD_FROM:] = self.pad_id, 0
        ids, att = ids.to(self.device), att.to(self.device)
        ref = self.model(input_ids=ids, attention_mask=att, use_cache=False).logits
        keep = att.bool()
        hidden = self._last_hidden(self.eager_body(input_ids=ids, attention_mask=att, use_cache=False))
        mine = self.logits(hidden[keep])
        ref = ref[keep]
        if mine.shape != ref.shape:
            diff = float("inf")
        else:
            a, b = torch.log_softmax(mine.float(), -1), torch.log_softmax(ref.float(), -1)
            d = torch.where(a == b, 0.0, (a - b).abs())  # equal -inf (masked entries) is no difference
            diff = float(d.nan_to_num(nan=float("inf")).max())
        eps = max(torch.finfo(ref.dtype).eps, torch.finfo(hidden.dtype).eps)
        zmax = float(ref.float().abs().nan_to_num(posinf=0.0, neginf=0.0).max())
        tol = PROBE_ATOL + PROBE_EPS_MULT * eps * max(1.0, zmax)
        self.probe_diff = diff
        if not diff <= tol:
            applied = self.transform.source if self.transform is not None else "none"
            raise ValueError(
                f"{describe(self.model)}: the chunked LM head does not reproduce the model's own "
                f"forward(...).logits on a {rows} x {length} probe (max |log p difference| {diff:.3g} > "
                f"tolerance {tol:.3g}; post-head transform applied: {applied}), so its entropies and "
                "log-probs would be wrong. Pass --exact-logits (Scorer(..., exact=True)) to score with the "
                "model's full forward, chunked over rows: slower, but always right."
            )
        return diff

    def _exact_stats(self, ids, att, r_idx, c_idx, targets, temperature: float, top_k: int) -> TokenStats:
        """The model's own logits for ``per_pass`` sequences at a time, gathered at the scored positions."""
        budget = self.chunk_rows or default_chunk_rows(self.vocab_size)
        per_pass = max(1, budget // ids.shape[1])
        parts = []
        for s in range(0, ids.shape[0], per_pass):
            z = self._full(
                input_ids=ids[s : s + per_pass], attention_mask=att[s : s + per_pass], use_cache=False
            ).logits
            sel = (r_idx >= s) & (r_idx < s + per_pass)  # rows are in sequence order, so this keeps the order
            parts.append(self.stats_fn(z[r_idx[sel] - s, c_idx[sel]], targets[sel], temperature, top_k))
            del z
        return concat_stats(parts, device=ids.device)

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
        r_idx, c_idx = torch.cat(rows).to(self.device), torch.cat(cols).to(self.device)
        tgt = torch.cat(targets).to(self.device)
        if logprob_only and not self.exact:
            hidden = self._last_hidden(self.body(input_ids=ids, attention_mask=att, use_cache=False))
            return _split(
                reqs, self.target_logprobs(hidden[r_idx, c_idx], tgt, temperature).float().cpu().numpy()
            )
        if self.exact:
            st = self._exact_stats(ids, att, r_idx, c_idx, tgt, temperature, top_k)
        else:
            hidden = self._last_hidden(self.body(input_ids=ids, attention_mask=att, use_cache=False))
            st = chunked_token_stats(
                hidden[r_idx, c_idx],
                self.logits,
                tgt,
                vocab_size=self.vocab_size,
                temperature=temperature,
                top_k=top_k,
                chunk_rows=self.chunk_rows,
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
        ``logprob_only``: only ``Scores.logprob`` is needed (chunked mode then skips entropy, rank and top-k;
        their arrays are empty)."""
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
