"""After all shards: the forking masks whose pool spans examples (``forking.parquet``) and ``stats.json``.

Pools (arXiv 2506.01939 says "the batch"; its code uses each GPU micro-batch; TRL gathers across ranks):
``dataset`` (every scored token of the run), ``batch`` (examples shuffled with ``--seed`` into batches of
``--pool-batch-size``, as a trainer's data loader groups them) and ``sequence`` (each example alone). Every
pool's tau is reported under its own name; ``forking`` in ``forking.parquet`` is the ``--pool`` one.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from reasonsift.ops.masks import forking_threshold, shuffled_batches
from reasonsift.ops.stats import entropy_summary, mask_overlap
from reasonsift.profile import schema as S
from reasonsift.profile.config import ProfileConfig
from reasonsift.profile.writer import FORKING_SCHEMA, RunDir
from reasonsift.utils.io import json_safe

_COLS = [S.ID, S.ENTROPY, S.SEGMENT, S.STEP, S.FORKING_SEQUENCE, S.COMPARE_ENTROPY]
_COLS += [S.IFD, S.R_IFD, S.INFO_GAIN, S.IG_TOTAL, S.POSTHOC, S.N_TRUNCATED]
NULL_REASONS = ("question_cut", "over_context")


def _nanstats(x) -> dict:
    a = np.array([v for v in x if v is not None], dtype=np.float64)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return {"n": 0}
    return {
        "n": int(a.size),
        "mean": float(a.mean()),
        "median": float(np.median(a)),
        "min": float(a.min()),
        "max": float(a.max()),
    }


def _tau(h: torch.Tensor, cfg: ProfileConfig) -> float:
    return forking_threshold(h, torch.ones_like(h, dtype=torch.bool), cfg.rho, cfg.quantile)


def pool_thresholds(ents: list[np.ndarray], cfg: ProfileConfig) -> dict[str, object]:
    """tau of each pool: ``dataset`` a number; ``batch`` and ``sequence`` one per example (its pool's tau)."""
    allh = torch.from_numpy(np.concatenate(ents)) if ents else torch.zeros(0)
    batch = np.full(len(ents), math.inf)
    for b in shuffled_batches(len(ents), cfg.pool_batch_size, cfg.seed):
        batch[b] = _tau(torch.from_numpy(np.concatenate([ents[i] for i in b])), cfg)
    seq = np.array([_tau(torch.from_numpy(h), cfg) for h in ents], dtype=np.float64)
    return {"dataset": _tau(allh, cfg), "batch": batch, "sequence": seq}


def finalize(run: RunDir, cfg: ProfileConfig, counters: dict) -> dict:
    """Write ``forking.parquet`` and ``stats.json``; return the stats."""
    t = run.read(_COLS).to_pydict()
    ents = [np.asarray(e, dtype=np.float32) for e in t[S.ENTROPY]]
    allh = torch.from_numpy(np.concatenate(ents)) if ents else torch.zeros(0)
    taus = pool_thresholds(ents, cfg)
    segs = [np.asarray(s, dtype=np.int8) for s in t[S.SEGMENT]]
    rows, per_seg = [], {S.TRACE: 0, S.ANSWER: 0, S.OTHER: 0}
    step_rel = np.zeros(10, dtype=np.int64)  # chosen-pool forking tokens by relative step position
    for i, h in enumerate(ents):
        h64 = h.astype(np.float64)
        masks = {
            "dataset": h64 >= taus["dataset"],
            "batch": h64 >= taus["batch"][i],
            "sequence": np.asarray(t[S.FORKING_SEQUENCE][i], bool),
        }
        chosen = masks[cfg.pool]
        seg, step = segs[i], np.asarray(t[S.STEP][i], dtype=np.int64)
        n_steps = int(step.max()) + 1 if step.size and step.max() >= 0 else 0
        in_steps = chosen & (step >= 0)
        per_step = np.bincount(step[in_steps], minlength=n_steps) if n_steps else np.zeros(0, np.int64)
        for k in per_seg:
            per_seg[k] += int((chosen & (seg == k)).sum())
        if n_steps:
            step_rel += np.bincount(np.minimum((step[in_steps] * 10) // n_steps, 9), minlength=10)
        rows.append(
            {
                S.ID: t[S.ID][i],
                S.FORKING: chosen.tolist(),
                S.FORKING_DATASET: masks["dataset"].tolist(),
                S.FORKING_BATCH: masks["batch"].tolist(),
                S.FORKING_FIXED: (h64 >= cfg.threshold).tolist() if cfg.threshold is not None else None,
                S.N_FORKING: int(chosen.sum()),
                "forking_trace": int((chosen & (seg == S.TRACE)).sum()),
                "forking_answer": int((chosen & (seg == S.ANSWER)).sum()),
                "forking_other": int((chosen & (seg == S.OTHER)).sum()),
                "forking_per_step": per_step.tolist(),
            }
        )
    run.write_table("forking.parquet", rows, FORKING_SCHEMA)

    seg_all = np.concatenate(segs) if segs else np.zeros(0, np.int8)
    n_fork = max(1, sum(per_seg.values()))
    stats = {
        "n_examples": counters.get("n_examples", 0),
        "n_profiled": len(ents),
        "n_rejected": counters.get("n_rejected", 0),
        "n_truncated": counters.get("n_truncated", 0),
        "null_metrics": {
            m: {r: counters.get(f"null_{m}_{r}", 0) for r in NULL_REASONS}
            for m in ("ifd", "r_ifd", "info_gain")
        },
        "scored_tokens": int(allh.numel()),
        "tokens": counters.get("tokens", 0),
        "padded_tokens": counters.get("padded_tokens", 0),
        "padding_waste": 1 - counters["tokens"] / counters["padded_tokens"]
        if counters.get("padded_tokens")
        else 0.0,
        "forking_pool": cfg.pool,  # the pool of forking.parquet's `forking` and of the shares below
        "tau": {
            "dataset": taus["dataset"],
            # one tau per batch / per example: summarised (batch: over examples, so weighted by batch size)
            "batch": _nanstats(taus["batch"]),
            "sequence": _nanstats(taus["sequence"]),
        },
        "rho": cfg.rho,
        "quantile": cfg.quantile,
        "pool_batch_size": cfg.pool_batch_size,
        "fixed_threshold": cfg.threshold,
        "entropy": entropy_summary(allh),
        "entropy_trace": entropy_summary(allh[torch.from_numpy(seg_all == S.TRACE)]) if allh.numel() else {},
        "forking_share": {
            "trace": per_seg[S.TRACE] / n_fork,
            "answer": per_seg[S.ANSWER] / n_fork,
            "other": per_seg[S.OTHER] / n_fork,
        },
        "forking_by_step_decile": (step_rel / max(1, step_rel.sum())).tolist(),
        "ifd": _nanstats(t[S.IFD]),
        "ifd_above_1": sum(1 for v in t[S.IFD] if v is not None and v > 1),
        "r_ifd": _nanstats(t[S.R_IFD]),
        "info_gain": _nanstats(t[S.INFO_GAIN]),
        "ig_total": _nanstats(t[S.IG_TOTAL]),
        "posthoc": sum(1 for v in t[S.POSTHOC] if v),
    }
    for k in ("elapsed_s", "tokens_per_s", "ig_method"):
        if k in counters:
            stats[k] = counters[k]
    if any(c is not None for c in t[S.COMPARE_ENTROPY]):
        stats["compare"] = _compare(ents, t[S.COMPARE_ENTROPY], cfg)
    stats = json_safe(stats)  # what is returned is what stats.json holds
    run.write_json("stats.json", stats)
    return stats


def _compare(ents: list[np.ndarray], comp: list, cfg: ProfileConfig) -> dict:
    """Overlap of the two models' forking positions (|A & B| / |A|, A = student), dataset and sequence pools."""
    a = torch.from_numpy(np.concatenate(ents))
    b = torch.from_numpy(np.concatenate([np.asarray(c, np.float32) for c in comp]))
    ta, tb = _tau(a, cfg), _tau(b, cfg)
    seq = []
    for h, c in zip(ents, comp, strict=True):
        x, y = torch.from_numpy(h), torch.tensor(c, dtype=torch.float32)
        ov = mask_overlap(x.double() >= _tau(x, cfg), y.double() >= _tau(y, cfg))
        if not math.isnan(ov):
            seq.append(ov)
    return {
        "model": cfg.compare_model,
        "tau": tb,
        "overlap_dataset_pool": mask_overlap(a.double() >= ta, b.double() >= tb),
        "overlap_sequence_pool_mean": float(np.mean(seq)) if seq else math.nan,
    }
