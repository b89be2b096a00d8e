"""After all shards: the dataset-pool forking mask (``forking.parquet``) and dataset statistics (``stats.json``)."""

from __future__ import annotations

import math

import numpy as np
import torch

from reasonsift.ops.masks import forking_threshold
from reasonsift.ops.stats import entropy_summary, mask_overlap
from reasonsift.profile.config import ProfileConfig
from reasonsift.profile.render import ANSWER, OTHER, TRACE
from reasonsift.profile.writer import FORKING_SCHEMA, RunDir

_COLS = ["id", "entropy", "segment", "step", "forking_sequence", "forking_batch", "compare_entropy"]
_COLS += ["ifd", "r_ifd", "info_gain", "ig_total", "posthoc", "n_truncated"]


def _nanstats(x: list) -> dict:
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


def finalize(run: RunDir, cfg: ProfileConfig, counters: dict) -> dict:
    """Write ``forking.parquet`` and ``stats.json``; return the stats."""
    t = run.read(_COLS).to_pydict()
    ents = [np.asarray(e, dtype=np.float32) for e in t["entropy"]]
    allh = torch.from_numpy(np.concatenate(ents)) if ents else torch.zeros(0)
    valid = torch.ones_like(allh, dtype=torch.bool)
    tau = forking_threshold(allh, valid, cfg.rho, cfg.quantile)
    segs = [np.asarray(s, dtype=np.int8) for s in t["segment"]]
    rows, per_seg = [], {TRACE: 0, ANSWER: 0, OTHER: 0}
    step_rel = np.zeros(10, dtype=np.int64)  # forking tokens by relative position of their step in the trace
    for i, h in enumerate(ents):
        ds = h.astype(np.float64) >= tau
        fixed = (h.astype(np.float64) >= cfg.threshold).tolist() if cfg.threshold is not None else None
        chosen = {"dataset": ds, "batch": np.asarray(t["forking_batch"][i], bool)}
        chosen["sequence"] = np.asarray(t["forking_sequence"][i], bool)
        seg, step = segs[i], np.asarray(t["step"][i], dtype=np.int64)
        n_steps = int(step.max()) + 1 if step.size and step.max() >= 0 else 0
        per_step = (
            np.bincount(step[ds & (step >= 0)], minlength=n_steps) if n_steps else np.zeros(0, np.int64)
        )
        for k in per_seg:
            per_seg[k] += int((ds & (seg == k)).sum())
        if n_steps:
            rel = np.minimum((step[ds & (step >= 0)] * 10) // n_steps, 9)
            step_rel += np.bincount(rel, minlength=10)
        rows.append(
            {
                "id": t["id"][i],
                "forking": chosen[cfg.pool].tolist(),
                "forking_dataset": ds.tolist(),
                "forking_fixed": fixed,
                "n_forking": int(ds.sum()),
                "forking_trace": int((ds & (seg == TRACE)).sum()),
                "forking_answer": int((ds & (seg == ANSWER)).sum()),
                "forking_other": int((ds & (seg == OTHER)).sum()),
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
        "n_aux_over_context": counters.get("n_aux_over_context", 0),
        "scored_tokens": int(allh.numel()),
        "tokens": counters.get("tokens", 0),
        "padded_tokens": counters.get("padded_tokens", 0),
        "padding_waste": 1 - counters["tokens"] / counters["padded_tokens"]
        if counters.get("padded_tokens")
        else 0.0,
        "forking_pool": cfg.pool,
        "forking_threshold": tau,  # tau of the dataset pool
        "rho": cfg.rho,
        "quantile": cfg.quantile,
        "fixed_threshold": cfg.threshold,
        "entropy": entropy_summary(allh),
        "entropy_trace": entropy_summary(allh[torch.from_numpy(seg_all == TRACE)]) if allh.numel() else {},
        "forking_share": {
            "trace": per_seg[TRACE] / n_fork,
            "answer": per_seg[ANSWER] / n_fork,
            "other": per_seg[OTHER] / n_fork,
        },
        "forking_by_step_decile": (step_rel / max(1, step_rel.sum())).tolist(),
        "ifd": _nanstats(t["ifd"]),
        "ifd_above_1": sum(1 for v in t["ifd"] if v is not None and v > 1),
        "r_ifd": _nanstats(t["r_ifd"]),
        "info_gain": _nanstats(t["info_gain"]),
        "ig_total": _nanstats(t["ig_total"]),
        "posthoc": sum(1 for v in t["posthoc"] if v),
    }
    for k in ("elapsed_s", "tokens_per_s"):
        if k in counters:
            stats[k] = counters[k]
    if any(c is not None for c in t["compare_entropy"]):
        stats["compare"] = _compare(ents, t["compare_entropy"], cfg)
    run.write_json("stats.json", stats)
    return stats


def _compare(ents: list[np.ndarray], comp: list, cfg: ProfileConfig) -> dict:
    """Overlap of the two models' forking positions (|A & B| / |A|, A = student), dataset and sequence pools."""
    a = torch.from_numpy(np.concatenate(ents))
    b = torch.from_numpy(np.concatenate([np.asarray(c, np.float32) for c in comp]))
    valid = torch.ones_like(a, dtype=torch.bool)
    ta = forking_threshold(a, valid, cfg.rho, cfg.quantile)
    tb = forking_threshold(b, valid, cfg.rho, cfg.quantile)
    seq = []
    for h, c in zip(ents, comp, strict=True):
        x, y = torch.from_numpy(h), torch.tensor(c, dtype=torch.float32)
        v = torch.ones_like(x, dtype=torch.bool)
        ov = mask_overlap(
            x >= forking_threshold(x, v, cfg.rho, cfg.quantile),
            y >= forking_threshold(y, v, cfg.rho, cfg.quantile),
        )
        if not math.isnan(ov):
            seq.append(ov)
    return {
        "model": cfg.compare_model,
        "forking_threshold": tb,
        "overlap_dataset_pool": mask_overlap(a.double() >= ta, b.double() >= tb),
        "overlap_sequence_pool_mean": float(np.mean(seq)) if seq else math.nan,
    }
