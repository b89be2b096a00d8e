"""Profile one shard of examples: render, score with the student (and scorer / compare models), build rows.

Each auxiliary value (s(A|Q), s(A), PPL(Q|A), PPL(Q), the answer NLL after each trace prefix) is one small
:class:`Job`: the sequence, the positions whose log-probs count, and the example and name it fills. A value
that cannot be computed honestly is null with a reason (``question_cut``, ``over_context``), counted per
metric in ``stats.json``: a metric is never computed on a rendering whose conditioning was cut.
"""

from __future__ import annotations

import json
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
from reasonsift.profile import schema as S
from reasonsift.profile.config import ProfileConfig
from reasonsift.profile.prefix import Target, cached_nlls, separate_nlls
from reasonsift.profile.render import Rendered, Renderer, step_ends
from reasonsift.profile.scoring import Request, Scorer, Scores

NAN = math.nan
# Why a metric is null (column ifd_null_reason; stats.json "null_metrics").
QUESTION_CUT, OVER_CONTEXT = "question_cut", "over_context"
NULL_METRICS = ("ifd", "r_ifd", "info_gain")


@dataclass
class Context:
    cfg: ProfileConfig
    renderer: Renderer
    student: Scorer
    scorer: Scorer  # IFD / information gain (the student unless --scorer-model)
    compare: Scorer | None
    max_length: int
    on_tokens: object = None  # callable(n_requests, n_tokens) for the progress bar
    ig_cache: bool = True  # False once the scorer's KV cache proved not croppable: separate passes
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


@dataclass
class Item:
    """A kept example on its way to a row: its main rendering and the auxiliary values filled so far."""

    index: int
    ex: Example
    r: Rendered  # the training rendering, after any left truncation
    cut: int
    nll: dict[str, float] = field(default_factory=dict)  # s_a_given_q, s_a, q_given_a, q -> mean NLL
    null: dict[str, str] = field(default_factory=dict)  # metric -> reason it is null
    ig_nll: list[float] | None = None
    ig_steps: int = 0


@dataclass
class Job:
    """One auxiliary teacher-forced sequence and the value it fills: ``item.nll[name]``."""

    item: Item
    name: str
    target: Target


def _positions(mask, offset: int, drop_first: bool = False) -> np.ndarray:
    """Absolute positions of the True entries of ``mask`` (indexed from ``offset``); optionally without the
    first one (the token a no-BOS plain rendering cannot score is dropped from the conditional mean too)."""
    pos = np.flatnonzero(np.asarray(mask, dtype=bool)) + offset
    return pos[1:] if drop_first and len(pos) else pos


def ig_prefixes(ex: Example, cfg: ProfileConfig) -> tuple[list[str], int]:
    """Trace prefixes for i = 0..n steps, and n. With ``ig_max_steps`` and more steps than that, the steps are
    grouped into that many contiguous groups (the first and last prefixes are always kept)."""
    if not ex.trace:
        return [""], 0
    ends = step_ends(ex.trace, ex.steps(cfg.segmenter))
    n = len(ends)
    g = cfg.ig_max_steps
    if g is not None and n > g:
        ends = [ends[round((k + 1) * n / g) - 1] for k in range(g)]
    return ["", *(ex.trace[:e] for e in ends)], n


def profile_shard(
    ctx: Context, examples: list[Example], first_index: int
) -> tuple[list[dict], list[dict], dict]:
    """Rows (input order), rejects and counters for ``examples`` (dataset indices from ``first_index``)."""
    cfg = ctx.cfg
    items, rejects, n_trunc = _render(ctx, examples, first_index)
    main = ctx.student.score(
        [Request(it.r.input_ids, it.r.score_start) for it in items],
        temperature=cfg.temperature,
        top_k=cfg.top_k,
        batch_size=cfg.batch_size,
        max_tokens_per_batch=cfg.max_tokens_per_batch,
        on_batch=ctx.on_tokens,
    )
    comp = None
    if ctx.compare is not None:
        comp = ctx.compare.score(
            [Request(it.r.input_ids, it.r.score_start) for it in items],
            temperature=cfg.temperature,
            batch_size=cfg.batch_size,
            max_tokens_per_batch=cfg.max_tokens_per_batch,
        ).scores
    jobs: list[Job] = []
    if cfg.ifd:
        jobs += _ifd_jobs(ctx, items, main.scores)
    if cfg.infogain:
        jobs += _infogain(ctx, items)
    _run_jobs(ctx, jobs)
    rows = [
        _row(ctx, it, sc, None if comp is None else comp[k])
        for k, (it, sc) in enumerate(zip(items, main.scores, strict=True))
    ]
    counters = {
        "n_examples": len(examples),
        "n_rows": len(rows),
        "n_rejected": len(rejects),
        "n_truncated": n_trunc,
        "tokens": main.tokens,
        "padded_tokens": main.padded_tokens,
        "scored_tokens": int(sum(len(s.entropy) for s in main.scores)),
    }
    for m in NULL_METRICS:
        for reason in (QUESTION_CUT, OVER_CONTEXT):
            counters[f"null_{m}_{reason}"] = sum(1 for it in items if it.null.get(m) == reason)
    return rows, rejects, counters


def _render(ctx: Context, examples: list[Example], first_index: int) -> tuple[list[Item], list[dict], int]:
    cfg, rd = ctx.cfg, ctx.renderer
    items: list[Item] = []
    rejects: list[dict] = []
    n_trunc = 0

    def reject(j: int, ex: Example, reason: str, n_tokens: int) -> None:
        rejects.append(
            {
                "index": first_index + j,
                "id": ex.id,
                "reason": reason,
                "n_tokens": n_tokens,
                "max_length": ctx.max_length,
            }
        )

    for j, ex in enumerate(examples):
        r = rd.example(ex, cfg.segmenter)
        n, cut = len(r), 0
        if n > ctx.max_length:
            if cfg.overflow == "reject":
                reject(j, ex, f"over the context: {n} tokens > max_length {ctx.max_length}", n)
                continue
            cut = r.truncate_left(ctx.max_length)
            if not any(r.in_target[r.score_start :]):
                reject(j, ex, f"truncate-left to max_length {ctx.max_length} leaves no completion token", n)
                continue
            n_trunc += 1
        items.append(Item(first_index + j, ex, r, cut))
    return items, rejects, n_trunc


def _ifd_jobs(ctx: Context, items: list[Item], main: list[Scores]) -> list[Job]:
    """IFD's s(A|Q) (from the main pass when the student scores at T = 1) and s(A); r-IFD's PPL(Q|A), PPL(Q)."""
    cfg, rd = ctx.cfg, ctx.renderer
    reuse_main = ctx.scorer is ctx.student and cfg.temperature == 1.0
    jobs: list[Job] = []
    for it, sc in zip(items, main, strict=True):
        ex, r = it.ex, it.r
        comp = completion_text(ex)
        if cfg.ifd_target == "answer":
            a_span = (len(comp) - len(ex.answer), len(comp))
            in_a = [s == S.ANSWER for s in r.segment]
        else:
            a_span, in_a = None, r.in_target
        a_ids, a_pos, a_dropped = rd.plain(comp, a_span)
        jobs.append(Job(it, "s_a", Target(a_ids, np.asarray(a_pos, np.int64))))
        if it.cut:
            it.null["ifd"] = QUESTION_CUT  # s(A|Q) of a rendering whose question was cut away is meaningless
        else:
            pos = _positions(in_a[r.score_start :], r.score_start, a_dropped)
            if reuse_main:
                lp = sc.logprob[pos - r.score_start].astype(np.float64)
                it.nll["s_a_given_q"] = float(-lp.mean()) if len(lp) else NAN
            else:
                jobs.append(Job(it, "s_a_given_q", Target(r.input_ids, pos)))
        rv = rd.reverse(ex)
        q_ids, q_pos, q_dropped = rd.plain(prompt_text(ex))
        jobs.append(
            Job(
                it,
                "q_given_a",
                Target(rv.input_ids, _positions(rv.in_target[rv.score_start :], rv.score_start, q_dropped)),
            )
        )
        jobs.append(Job(it, "q", Target(q_ids, np.asarray(q_pos, np.int64))))
    return jobs


def _infogain(ctx: Context, items: list[Item]) -> list[Job]:
    """Answer NLL after each trace prefix: through one KV cache per example where the model allows it (see
    ``profile/prefix.py``); returns jobs for separate passes otherwise (and for ``--ig-whole-sequence``)."""
    cfg, rd = ctx.cfg, ctx.renderer
    jobs: list[Job] = []
    for it in items:
        prefixes, it.ig_steps = ig_prefixes(it.ex, cfg)
        targets = []
        for pre in prefixes:
            p = rd.prefix(it.ex, pre)
            if cfg.ig_whole_sequence:  # 2506.02126's code: every token of the rendering
                pos = np.arange(1, len(p), dtype=np.int64)
            else:
                pos = _positions([s == S.ANSWER for s in p.segment[p.score_start :]], p.score_start)
            targets.append(Target(p.input_ids, pos))
        if any(len(t.input_ids) > ctx.max_length for t in targets):
            it.null["info_gain"] = OVER_CONTEXT
            continue
        nll = None
        if ctx.ig_cache and not cfg.ig_whole_sequence:
            nll = cached_nlls(ctx.scorer, targets)
            ctx.ig_cache = nll is not None
        if nll is not None:
            it.ig_nll = nll
        else:
            it.ig_nll = [NAN] * len(targets)
            jobs += [Job(it, f"ig{i}", t) for i, t in enumerate(targets)]
    return jobs


def _run_jobs(ctx: Context, jobs: list[Job]) -> None:
    """Score every job that fits the context in batched separate passes; fill ``item.nll`` / ``item.ig_nll``."""
    fits = [j for j in jobs if len(j.target.input_ids) <= ctx.max_length]
    for j in jobs:
        if len(j.target.input_ids) > ctx.max_length:
            metric = "r_ifd" if j.name in ("q_given_a", "q") else "ifd"
            j.item.null.setdefault(metric, OVER_CONTEXT)
            j.item.nll[j.name] = NAN
    cfg = ctx.cfg
    nlls = separate_nlls(
        ctx.scorer,
        [j.target for j in fits],
        batch_size=cfg.batch_size,
        max_tokens=cfg.max_tokens_per_batch,
    )
    for j, v in zip(fits, nlls, strict=True):
        if j.name.startswith("ig"):
            j.item.ig_nll[int(j.name[2:])] = v  # type: ignore[index]
        else:
            j.item.nll[j.name] = v


def _f(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else float(x)


def _row(ctx: Context, it: Item, sc: Scores, comp: Scores | None) -> dict:
    cfg, ex, r = ctx.cfg, it.ex, it.r
    s0 = r.score_start
    ent = torch.from_numpy(sc.entropy)
    tau_seq = forking_threshold(ent, torch.ones_like(ent, dtype=torch.bool), cfg.rho, cfg.quantile)
    row = {
        **ex.to_dict(),
        "meta": json.dumps(ex.meta, ensure_ascii=False, sort_keys=True, default=str),
        S.INPUT_IDS: r.input_ids,
        S.SCORE_START: s0,
        S.N_TRUNCATED: it.cut,
        S.TOKEN_IDS: r.input_ids[s0:],
        S.TOKENS: ctx.decode(r.input_ids[s0:]),
        S.ENTROPY: sc.entropy.tolist(),
        S.LOGPROB: sc.logprob.tolist(),
        S.RANK: sc.rank.tolist(),
        S.TOP_IDS: sc.top_ids.tolist() if sc.top_ids is not None else None,
        S.TOP_TOKENS: [ctx.decode(t) for t in sc.top_ids] if sc.top_ids is not None else None,
        S.TOP_LOGPROBS: sc.top_logprobs.tolist() if sc.top_logprobs is not None else None,
        S.SEGMENT: r.segment[s0:],
        S.STEP: r.step[s0:],
        S.FORKING_SEQUENCE: (sc.entropy.astype(np.float64) >= tau_seq).tolist(),
        S.N_TOKENS: len(sc.entropy),
        S.COMPARE_ENTROPY: comp.entropy.tolist() if comp is not None else None,
    }
    row.update({k: _f(v) for k, v in entropy_summary(ent).items()})
    row.update(dict.fromkeys((S.S_A_GIVEN_Q, S.S_A, S.IFD, S.PPL_Q_GIVEN_A, S.PPL_Q, S.R_IFD), None))
    row.update(dict.fromkeys((S.IG_NLL, S.IG_GAINS, S.IG_TOTAL, S.INFO_GAIN, S.POSTHOC, S.IG_N_STEPS)))
    row[S.IFD_NULL_REASON] = it.null.get("ifd")
    if cfg.ifd:
        nll = it.nll
        s_aq, s_a = nll.get("s_a_given_q", NAN), nll.get("s_a", NAN)
        nll_qa, nll_q = nll.get("q_given_a", NAN), nll.get("q", NAN)
        row.update(
            {
                S.S_A_GIVEN_Q: _f(s_aq),
                S.S_A: _f(s_a),
                S.IFD: _f(ifd_ops.ifd(s_aq, s_a)),
                S.PPL_Q_GIVEN_A: _f(math.exp(nll_qa)) if math.isfinite(nll_qa) else None,
                S.PPL_Q: _f(math.exp(nll_q)) if math.isfinite(nll_q) else None,
                S.R_IFD: _f(ifd_ops.r_ifd(nll_qa, nll_q)),
            }
        )
    if cfg.infogain and it.ig_nll is not None and all(math.isfinite(v) for v in it.ig_nll):
        g = info_gain(it.ig_nll, it.ig_steps)
        row.update(
            {
                S.IG_NLL: it.ig_nll,
                S.IG_GAINS: g.gains,
                S.IG_N_STEPS: it.ig_steps,
                S.IG_TOTAL: _f(g.total),
                S.INFO_GAIN: _f(g.info_gain),
                S.POSTHOC: bool(
                    it.ig_steps > 0 and is_posthoc(g.ppl0, g.total, cfg.posthoc_ppl0, cfg.posthoc_gain)
                ),
            }
        )
    return row
