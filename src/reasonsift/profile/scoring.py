"""Teacher-forced scoring of many sequences: length-bucketed batches, backbone once, LM head in row chunks.

Never materialises ``batch x length x vocab`` logits: the backbone gives ``[B, L, d]`` hidden states, only
the positions that predict a scored token are gathered (``[N, d]``), and the head plus the model's post-head
transform (:meth:`Scorer.logits`) runs over row chunks with fp32 statistics
(:func:`reasonsift.ops.entropy.chunked_token_stats`). A start-up probe checks that path against the model's
own ``forward(...).logits``; ``exact=True`` (``--exact-logits``) uses the full forward instead. Alignment
(TRL's convention): the hidden state at position ``t - 1`` gives the distribution that token ``t`` was
drawn from.

Packing (``packing=True``, ``--packing``): several requests share one row, each with position ids restarting
at 0 and no attention mask. Attention is variable-length: the model's FlashAttention / flex kernel, or else
:mod:`reasonsift.models.varlen` (SDPA one sequence at a time), so no request sees another and no work goes to
the blocks between them. Rows are filled first-fit decreasing up to :func:`pack_capacity` tokens. A start-up
probe (:meth:`Scorer.check_packing`) refuses an architecture where a packed row differs from each sequence run
alone (OPT derives positions from the attention mask; some layers never pass position ids to attention).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import torch

from reasonsift.models.introspect import backbone, describe, head_vocab_size, logit_transform, output_head
from reasonsift.models.varlen import packed_attention
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


# Default tokens per packed row. Attention is variable-length, so a row's length costs nothing across its
# sequences; what is left is GEMM size (rows x row length per pass either way) and the padding between rows
# of one pass. On the CPU benchmark (bench/packing_bench.py, docs/benchmarks.md) every row length from 1024
# to 16384 kept 0.86-1.06x of the fixed-length throughput (padded: 0.71-0.82x), 2048-4096 most steadily.
DEFAULT_PACK_LENGTH = 4096


def pack_capacity(max_tokens: int, pack_length: int | None = None) -> int:
    """Tokens per packed row: ``pack_length`` when given, else :data:`DEFAULT_PACK_LENGTH` within the
    ``max_tokens`` budget."""
    return pack_length if pack_length is not None else min(DEFAULT_PACK_LENGTH, max_tokens)


def make_packs(lengths: list[int], capacity: int) -> list[list[int]]:
    """First-fit decreasing: requests longest first (ties by index), each into the first row with room for it
    (rows hold at most ``capacity`` tokens; a longer request gets a row of its own). Deterministic."""
    rows: list[list[int]] = []
    room: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda i: (-lengths[i], i)):
        n = lengths[i]
        for r, free in enumerate(room):
            if free >= n:
                rows[r].append(i)
                room[r] -= n
                break
        else:
            rows.append([i])
            room.append(max(capacity - n, 0))
    return rows


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
# Packing probe: three requests of these lengths in one row, then a padding tail of PACK_PROBE_PAD tokens.
PACK_PROBE_LENGTHS = (5, 9, 3)
PACK_PROBE_PAD = 2


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
        packing: bool = False,
        pack_length: int | None = None,
    ):
        if pack_length is not None and pack_length < 1:
            raise ValueError(f"pack_length: expected >= 1, got {pack_length}")
        self.model = model.eval()
        self.packing = packing
        self.pack_length = pack_length
        self.pack_diff: float | None = None  # max |log p difference| found by check_packing()
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
        if packing:
            self.check_packing()
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
        ids = self._probe_ids((rows, length), seed=0)
        att = torch.ones_like(ids)
        ids[1, PROBE_PAD_FROM:], att[1, PROBE_PAD_FROM:] = self.pad_id, 0
        ids, att = ids.to(self.device), att.to(self.device)
        ref = self.model(input_ids=ids, attention_mask=att, use_cache=False).logits
        keep = att.bool()
        hidden = self._last_hidden(self.eager_body(input_ids=ids, attention_mask=att, use_cache=False))
        mine = self.logits(hidden[keep])
        ref = ref[keep]
        diff = _max_logprob_diff(mine, ref)
        tol = self._tolerance(ref, hidden.dtype)
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

    def _probe_ids(self, shape: tuple[int, ...], seed: int) -> torch.Tensor:
        """Deterministic random token ids for a start-up probe, within both the head and the embedding."""
        emb = self.model.get_input_embeddings() if hasattr(self.model, "get_input_embeddings") else None
        n_ids = min(self.vocab_size, getattr(emb, "num_embeddings", None) or self.vocab_size)
        return torch.randint(0, n_ids, shape, generator=torch.Generator().manual_seed(seed))

    def _tolerance(self, ref: torch.Tensor, dtype: torch.dtype) -> float:
        """Probe tolerance on log-probs: :data:`PROBE_ATOL` plus :data:`PROBE_EPS_MULT` epsilons of the
        largest finite logit in ``ref``."""
        eps = max(torch.finfo(ref.dtype).eps, torch.finfo(dtype).eps)
        zmax = float(ref.float().abs().nan_to_num(posinf=0.0, neginf=0.0).max())
        return PROBE_ATOL + PROBE_EPS_MULT * eps * max(1.0, zmax)

    def _row_logits(self, ids: torch.Tensor, kw: dict) -> torch.Tensor:
        """``[R, L, V]`` logits the way scoring makes them: backbone + :meth:`logits`, or the full forward."""
        if self.exact:
            return self._full(input_ids=ids, **kw, use_cache=False).logits
        return self.logits(self._last_hidden(self.eager_body(input_ids=ids, **kw, use_cache=False)))

    @torch.inference_mode()
    def check_packing(self) -> float:
        """Compare a packed row (:data:`PACK_PROBE_LENGTHS` requests end to end, then padding) with each
        request run alone. Returns the max abs log-prob difference; raises ``ValueError`` naming the
        architecture when it exceeds the dtype's tolerance: the model does not honour restarted position ids,
        so packed requests would see each other."""
        seqs = self._probe_ids((sum(PACK_PROBE_LENGTHS),), seed=1).split(PACK_PROBE_LENGTHS)
        ids = torch.cat([*seqs, torch.full((PACK_PROBE_PAD,), self.pad_id)])[None].to(self.device)
        pos = torch.cat([torch.arange(n) for n in (*PACK_PROBE_LENGTHS, PACK_PROBE_PAD)])[None].to(
            self.device
        )
        try:
            with packed_attention(self.model):
                packed = self._row_logits(ids, {"position_ids": pos})[0]
        except ValueError as e:  # the variable-length attention could not be exact for this model
            raise ValueError(
                f"{describe(self.model)}: cannot pack sequences ({e}). Drop --packing."
            ) from None
        alone = torch.cat([self._row_logits(q[None].to(self.device), {})[0] for q in seqs])
        diff = _max_logprob_diff(packed[: sum(PACK_PROBE_LENGTHS)], alone)
        tol = self._tolerance(alone, packed.dtype)
        self.pack_diff = diff
        if not diff <= tol:
            raise ValueError(
                f"{describe(self.model)}: packed rows do not reproduce each sequence run alone (max |log p "
                f"difference| {diff:.3g} > tolerance {tol:.3g}): the architecture does not restart attention "
                "at restarted position ids, so packed sequences would see each other. Drop --packing "
                "(Scorer(..., packing=False)): padded batches are always right."
            )
        return diff

    def _exact_stats(self, ids, kw, r_idx, c_idx, targets, temperature: float, top_k: int) -> TokenStats:
        """The model's own logits for ``per_pass`` rows at a time, gathered at the scored positions."""
        budget = self.chunk_rows or default_chunk_rows(self.vocab_size)
        per_pass = max(1, budget // ids.shape[1])
        parts = []
        for s in range(0, ids.shape[0], per_pass):
            part = {k: v[s : s + per_pass] for k, v in kw.items()}
            z = self._full(input_ids=ids[s : s + per_pass], **part, use_cache=False).logits
            sel = (r_idx >= s) & (r_idx < s + per_pass)  # rows are in sequence order, so this keeps the order
            parts.append(self.stats_fn(z[r_idx[sel] - s, c_idx[sel]], targets[sel], temperature, top_k))
            del z
        return concat_stats(parts, device=ids.device)

    def _layout(self, rows: list[list[Request]], packed: bool):
        """``[R, L]`` input ids (right-padded) and the forward's mask arguments for ``rows``, each a list of
        requests laid end to end, plus the (row, column) of every scored position's predictor and its target.
        Packed: position ids restart at 0 for each request (and for the padding tail), no attention mask.
        Padded (one request a row): an attention mask."""
        for row in rows:
            for r in row:
                if r.score_start < 1 or r.score_start > len(r.input_ids):
                    raise ValueError(f"score_start: expected 1..{len(r.input_ids)}, got {r.score_start}")
        longest = max(sum(len(r.input_ids) for r in row) for row in rows)
        ids = torch.full((len(rows), longest), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), longest), dtype=torch.long)
        r_idx, c_idx, tgt = [], [], []
        for b, row in enumerate(rows):
            o = 0
            for r in row:
                n = len(r.input_ids)
                ids[b, o : o + n] = torch.tensor(r.input_ids, dtype=torch.long)
                mask[b, o : o + n] = torch.arange(n) if packed else 1
                pos = torch.arange(o + r.score_start - 1, o + n - 1)  # position t-1 predicts token t
                r_idx.append(torch.full_like(pos, b))
                c_idx.append(pos)
                tgt.append(ids[b, o + r.score_start : o + n])
                o += n
            if packed:
                mask[b, o:] = torch.arange(longest - o)  # the padding tail: a sequence of its own
        kw = {"position_ids" if packed else "attention_mask": mask.to(self.device)}
        dev = self.device
        return ids.to(dev), kw, torch.cat(r_idx).to(dev), torch.cat(c_idx).to(dev), torch.cat(tgt).to(dev)

    @torch.inference_mode()
    def forward_batch(
        self, reqs: list[Request], temperature: float, top_k: int, logprob_only: bool = False
    ) -> list[Scores]:
        """One padded forward pass, a row per request; scores in ``reqs`` order."""
        return self.forward_rows([[r] for r in reqs], temperature, top_k, logprob_only, packed=False)

    @torch.inference_mode()
    def forward_rows(
        self,
        rows: list[list[Request]],
        temperature: float,
        top_k: int,
        logprob_only: bool = False,
        packed: bool = True,
    ) -> list[Scores]:
        """One forward pass over ``rows`` (requests laid end to end in each, see :meth:`_layout`); scores in
        row-major request order."""
        with packed_attention(self.model) if packed else nullcontext():
            return self._forward_rows(rows, temperature, top_k, logprob_only, packed)

    def _forward_rows(self, rows, temperature: float, top_k: int, logprob_only: bool, packed: bool):
        reqs = [r for row in rows for r in row]
        ids, kw, r_idx, c_idx, tgt = self._layout(rows, packed)
        if logprob_only and not self.exact:
            hidden = self._last_hidden(self.body(input_ids=ids, **kw, use_cache=False))
            return _split(
                reqs, self.target_logprobs(hidden[r_idx, c_idx], tgt, temperature).float().cpu().numpy()
            )
        if self.exact:
            st = self._exact_stats(ids, kw, r_idx, c_idx, tgt, temperature, top_k)
        else:
            hidden = self._last_hidden(self.body(input_ids=ids, **kw, use_cache=False))
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
        their arrays are empty). Padded: a row per request, ``batch_size`` rows and ``max_tokens_per_batch``
        padded tokens per pass at most. Packed: rows of :func:`pack_capacity` tokens, the same limits on rows."""
        lengths = [len(r.input_ids) for r in reqs]
        if self.packing:
            rows = make_packs(lengths, pack_capacity(max_tokens_per_batch, self.pack_length))
        else:
            rows = [[i] for i in range(len(reqs))]
        row_len = [sum(lengths[i] for i in row) for row in rows]
        scores: list[Scores | None] = [None] * len(reqs)
        run = ScoreRun([], [])
        for batch in make_batches(row_len, batch_size, max_tokens_per_batch):
            members = [i for j in batch for i in rows[j]]
            res = self.forward_rows(
                [[reqs[i] for i in rows[j]] for j in batch], temperature, top_k, logprob_only, self.packing
            )
            for i, sc in zip(members, res, strict=True):
                scores[i] = sc
            run.batches.append(members)
            real = sum(row_len[j] for j in batch)
            run.tokens += real
            run.padded_tokens += len(batch) * row_len[batch[0]]
            if on_batch:
                on_batch(len(members), real)
        run.scores = scores  # type: ignore[assignment]
        return run


def _max_logprob_diff(mine: torch.Tensor, ref: torch.Tensor) -> float:
    """Max |log-softmax difference| between two ``[N, V]`` logit tensors (inf when their shapes differ);
    equal ``-inf`` entries (masked vocabulary) count as no difference, NaN as infinite."""
    if mine.shape != ref.shape:
        return float("inf")
    a, b = torch.log_softmax(mine.float(), -1), torch.log_softmax(ref.float(), -1)
    d = torch.where(a == b, 0.0, (a - b).abs())
    return float(d.nan_to_num(nan=float("inf")).max())


def _split(reqs: list[Request], lp: np.ndarray) -> list[Scores]:
    """Per-request ``Scores`` holding log-probs only (``logprob_only`` passes)."""
    out, s = [], 0
    empty_f, empty_i = np.zeros(0, np.float32), np.zeros(0, np.int32)
    for r in reqs:
        n = len(r.input_ids) - r.score_start
        out.append(Scores(empty_f, lp[s : s + n], empty_i))
        s += n
    return out
