"""Profile one shard of examples: render, score with the student (and scorer / compare models), build rows."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from reasonsift.data.example import Example
from reasonsift.data.render import completion_text, prompt_text
from reasonsift.ops import ifd as ifd_ops
from reasonsift.ops.infogain import info_gain, is_posthoc
from reasonsift.ops.masks import forking_threshold
from reasonsift.ops.stats import entropy_summary
from reasonsift.profile.config import ProfileConfig
from reasonsift.profile.render import ANSWER, Rendered, Renderer, step_ends
from reasonsift.profile.scoring import Request, Scorer, Scores

NAN = math.nan


@dataclass
class Context:
    cfg: ProfileConfig
    renderer: Renderer
    student: Scorer
    scorer: Scorer  # IFD / information gain (the student unless --scorer-model)
    compare: Scorer | None
    max_length: int
    on_tokens: object = None  # callable(n_requests, n_tokens) for the progress bar
    _decoded: dict[int, str] = field(default_factory=dict)

    def decode(self, ids) -> list[str]:
        out = []
        for i in ids:
            i = int(i)
            s = self._decoded.get(i)
            if s is None:
                s = self._decoded[i] = self.renderer.tok.decode([i], skip_special_tokens=False)
            out.append(s)
        return out


def _nll(sc: Scores | None, mask: np.ndarray | None = None) -> float:
    if sc is None:
        return NAN
    return ifd_ops.mean_nll(torch.from_numpy(sc.logprob), None if mask is None else torch.from_numpy(mask))


def _target_mask(r: Rendered, drop_first: bool) -> np.ndarray:
    m = np.array(r.in_target[r.score_start :], dtype=bool)
    if drop_first and m.any():
        m[np.argmax(m)] = False  # the plain rendering without BOS cannot score the first token either
    return m


def _ig_prefixes(ex: Example, cfg: ProfileConfig) -> list[str]:
    """Trace prefixes for i = 0..n steps; more than ``ig_max_steps`` steps are grouped evenly."""
    if not ex.trace:
        return [""]
    steps = ex.steps(cfg.segmenter)
    ends = step_ends(ex.trace, steps)
    n = len(ends)
    if n > cfg.ig_max_steps:
        ends = [ends[round((g + 1) * n / cfg.ig_max_steps) - 1] for g in range(cfg.ig_max_steps)]
    return ["", *(ex.trace[:e] for e in ends)]


def profile_shard(
    ctx: Context, examples: list[Example], first_index: int
) -> tuple[list[dict], list[dict], dict]:
    """Rows (input order), rejects and counters for ``examples`` (dataset indices from ``first_index``)."""
    cfg, rd = ctx.cfg, ctx.renderer
    kept: list[tuple[int, Example, Rendered, int]] = []
    rejects: list[dict] = []
    n_trunc = 0
    for j, ex in enumerate(examples):
        r = rd.example(ex, cfg.segmenter)
        cut = 0
        if len(r) > ctx.max_length:
            if cfg.overflow == "reject":
                rejects.append(
                    {
                        "index": first_index + j,
                        "id": ex.id,
                        "reason": f"over the context: {len(r)} tokens > max_length {ctx.max_length}",
                        "n_tokens": len(r),
                        "max_length": ctx.max_length,
                    }
                )
                continue
            cut = r.truncate_left(ctx.max_length)
            n_trunc += 1
        kept.append((j, ex, r, cut))

    main_reqs = [Request(r.input_ids, r.score_start) for _, _, r, _ in kept]
    main = ctx.student.score(
        main_reqs,
        temperature=cfg.temperature,
        top_k=cfg.top_k,
        batch_size=cfg.batch_size,
        max_tokens_per_batch=cfg.max_tokens_per_batch,
        on_batch=ctx.on_tokens,
    )
    batch_fork = _batch_forking(main.scores, main.batches, cfg)
    comp = None
    if ctx.compare is not None:
        comp = ctx.compare.score(
            main_reqs,
            temperature=cfg.temperature,
            batch_size=cfg.batch_size,
            max_tokens_per_batch=cfg.max_tokens_per_batch,
        ).scores

    aux, aux_masks, aux_over = _aux_requests(ctx, kept)
    aux_reqs = [q for q in aux if q is not None]
    aux_scores = (
        ctx.scorer.score(
            aux_reqs, batch_size=cfg.batch_size, max_tokens_per_batch=cfg.max_tokens_per_batch
        ).scores
        if aux_reqs
        else []
    )
    it = iter(aux_scores)
    aux_res = [(next(it) if q is not None else None, m) for q, m in zip(aux, aux_masks, strict=True)]

    rows, k = [], 0
    for n, (_, ex, r, cut) in enumerate(kept):
        sc = main.scores[n]
        take = aux_res[k : k + aux_counts(ctx, ex)]
        k += len(take)
        rows.append(_row(ctx, ex, r, cut, sc, batch_fork[n], take, None if comp is None else comp[n]))
    counters = {
        "n_examples": len(examples),
        "n_rows": len(rows),
        "n_rejected": len(rejects),
        "n_truncated": n_trunc,
        "n_aux_over_context": aux_over,
        "tokens": main.tokens,
        "padded_tokens": main.padded_tokens,
        "scored_tokens": int(sum(len(s.entropy) for s in main.scores)),
    }
    return rows, rejects, counters


def aux_counts(ctx: Context, ex: Example) -> int:
    cfg = ctx.cfg
    n = 0
    if cfg.ifd:
        n += 4  # s(A|Q) with the scorer, s(A), PPL(Q|A), PPL(Q)
    if cfg.infogain:
        n += len(_ig_prefixes(ex, cfg))
    return n


def _aux_requests(ctx: Context, kept) -> tuple[list[Request | None], list[np.ndarray | None], int]:
    """IFD and information-gain sequences, ``aux_counts`` per example in order, with the mask of scored tokens
    that count (None: all); a request is None when over the context (that metric is then NaN) or when the
    main pass already gives it."""
    cfg, rd = ctx.cfg, ctx.renderer
    reuse_main = ctx.scorer is ctx.student and cfg.temperature == 1.0
    drop_first = rd.encode_plain("x")[1]
    out: list[Request | None] = []
    masks: list[np.ndarray | None] = []
    over = 0

    def add(ids: list[int], start: int, mask: np.ndarray | None = None) -> None:
        nonlocal over
        masks.append(mask)
        if len(ids) > ctx.max_length:
            over += 1
            out.append(None)
        else:
            out.append(Request(ids, start))

    for _, ex, r, _ in kept:
        if cfg.ifd:
            if reuse_main:
                out.append(None)
                masks.append(_target_mask(r, drop_first))
            else:
                add(r.input_ids, r.score_start, _target_mask(r, drop_first))
            add(rd.encode_plain(completion_text(ex))[0], 1)
            rv = rd.reverse(ex)
            add(rv.input_ids, rv.score_start, _target_mask(rv, drop_first))
            add(rd.encode_plain(prompt_text(ex))[0], 1)
        if cfg.infogain:
            for pre in _ig_prefixes(ex, cfg):
                p = rd.prefix(ex, pre)
                if cfg.ig_whole_sequence:
                    add(p.input_ids, 1)
                else:
                    add(p.input_ids, p.score_start, np.array(p.segment[p.score_start :]) == ANSWER)
    return out, masks, over


def _batch_forking(scores: list[Scores], batches: list[list[int]], cfg: ProfileConfig) -> list[np.ndarray]:
    """Forking masks with the pool = all scored tokens of the forward pass each example was in."""
    out: list[np.ndarray] = [np.zeros(0, bool)] * len(scores)
    for b in batches:
        pool = torch.from_numpy(np.concatenate([scores[i].entropy for i in b]))
        tau = forking_threshold(pool, torch.ones_like(pool, dtype=torch.bool), cfg.rho, cfg.quantile)
        for i in b:
            out[i] = scores[i].entropy.astype(np.float64) >= tau
    return out


def _f(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _row(
    ctx: Context, ex: Example, r: Rendered, cut: int, sc: Scores, fork_b, aux, comp: Scores | None
) -> dict:
    cfg = ctx.cfg
    s0 = r.score_start
    ent = torch.from_numpy(sc.entropy)
    tau_seq = forking_threshold(ent, torch.ones_like(ent, dtype=torch.bool), cfg.rho, cfg.quantile)
    row = {
        "id": ex.id,
        "domain": ex.domain,
        "format": ex.format,
        "question": ex.question,
        "trace": ex.trace,
        "answer": ex.answer,
        "input_ids": r.input_ids,
        "score_start": s0,
        "n_truncated": cut,
        "token_ids": r.input_ids[s0:],
        "tokens": ctx.decode(r.input_ids[s0:]),
        "entropy": sc.entropy.tolist(),
        "logprob": sc.logprob.tolist(),
        "rank": sc.rank.tolist(),
        "top_ids": sc.top_ids.tolist() if sc.top_ids is not None else None,
        "top_tokens": [ctx.decode(t) for t in sc.top_ids] if sc.top_ids is not None else None,
        "top_logprobs": sc.top_logprobs.tolist() if sc.top_logprobs is not None else None,
        "segment": r.segment[s0:],
        "step": r.step[s0:],
        "forking_sequence": (sc.entropy.astype(np.float64) >= tau_seq).tolist(),
        "forking_batch": fork_b.tolist(),
        "n_tokens": len(sc.entropy),
        "compare_entropy": comp.entropy.tolist() if comp is not None else None,
    }
    row.update({k: _f(v) for k, v in entropy_summary(ent).items()})
    row.update(
        dict.fromkeys(("s_a_given_q", "s_a", "ifd", "ppl_q_given_a", "ppl_q", "r_ifd", "ig_total"), None)
    )
    row.update({"info_gain": None, "posthoc": None, "ig_nll": None, "ig_gains": None})
    i = 0
    if cfg.ifd:
        (aq, aq_mask), (a, _), (qa, qa_mask), (q, _) = aux[:4]
        s_aq = _nll(
            sc if aq is None and ctx.scorer is ctx.student and cfg.temperature == 1.0 else aq, aq_mask
        )
        s_a, nll_qa, nll_q = _nll(a), _nll(qa, qa_mask), _nll(q)
        row.update(
            s_a_given_q=_f(s_aq),
            s_a=_f(s_a),
            ifd=_f(ifd_ops.ifd(s_aq, s_a)),
            ppl_q_given_a=_f(math.exp(nll_qa)) if math.isfinite(nll_qa) else None,
            ppl_q=_f(math.exp(nll_q)) if math.isfinite(nll_q) else None,
            r_ifd=_f(ifd_ops.r_ifd(nll_qa, nll_q)),
        )
        i = 4
    if cfg.infogain:
        nll = [_nll(s, m) for s, m in aux[i:]]
        g = info_gain(nll)
        n_steps = len(nll) - 1
        row.update(
            ig_nll=nll,
            ig_gains=g.gains,
            ig_total=_f(g.total),
            info_gain=_f(g.info_gain),
            posthoc=bool(n_steps > 0 and is_posthoc(g.ppl0, g.total, cfg.posthoc_ppl0, cfg.posthoc_gain)),
        )
    return row
