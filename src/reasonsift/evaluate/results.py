"""The eval run's output tables: ``samples.parquet`` and ``questions.parquet`` schemas, the per-question
records the metrics read, and ``results.json`` (docs/evaluate.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from reasonsift.evaluate.stage import EvalStageConfig, Question

SAMPLE_SCHEMA_BASE = [
    ("id", pa.string()),
    ("task", pa.string()),
    ("split", pa.string()),
    ("domain", pa.string()),
    ("format", pa.string()),
    ("sample", pa.int32()),
    ("completion", pa.string()),
    ("extracted", pa.string()),
    ("state", pa.string()),
    ("score", pa.float32()),
    ("detail", pa.string()),
    ("n_tokens", pa.int32()),
    ("finish_reason", pa.string()),
    ("n_forced", pa.int32()),
]
IG_COLUMNS = [("info_gain", pa.float32()), ("ig_total", pa.float32()), ("posthoc", pa.bool_())]


def sample_schema() -> pa.Schema:
    from reasonsift.evaluate.quality import QUALITY_COLUMNS

    types = {"trace_valid": pa.bool_(), "trace_invalid_step": pa.int32(), "trace_chars": pa.int32()}
    types |= {"trace_steps": pa.int32(), "strategy": pa.float32(), "strategy_name": pa.string()}
    quality = [(c, types.get(c, pa.string())) for c in QUALITY_COLUMNS]
    return pa.schema(SAMPLE_SCHEMA_BASE + quality + IG_COLUMNS)


QUESTION_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("task", pa.string()),
        ("split", pa.string()),
        ("domain", pa.string()),
        ("format", pa.string()),
        ("question", pa.string()),
        ("answer", pa.string()),
        ("n", pa.int32()),
        ("correct", pa.int32()),
        ("solve_rate", pa.float32()),
        ("no_answer", pa.int32()),
        ("timeout", pa.int32()),
        ("error", pa.int32()),
    ]
)


def per_question(qs: list[Question], samples: list[dict]) -> list[dict]:
    """The per-question records :func:`reasonsift.evaluate.metrics.summarize` reads (samples in order)."""
    by_id: dict[str, list[dict]] = {}
    for s in samples:
        by_id.setdefault(s["id"], []).append(s)
    out = []
    for q in qs:
        ss = sorted(by_id.get(q.ex.id, []), key=lambda r: r["sample"])
        out.append(
            {
                "id": q.ex.id,
                "task": q.task,
                "split": q.split,
                "domain": q.ex.domain,
                "format": q.ex.format,
                "question": q.ex.question,
                "answer": q.ex.answer,
                "n": len(ss),
                "correct": sum(r["state"] == "correct" for r in ss),
                "answers": [r["extracted"] for r in ss],
                "correct_list": [r["state"] == "correct" for r in ss],
                "states": [r["state"] for r in ss],
            }  # fmt: skip
        )
    return out


def question_row(p: dict) -> dict:
    from reasonsift.evaluate.metrics import solve_rate

    row = {k: p[k] for k in ("id", "task", "split", "domain", "format", "question", "answer", "n", "correct")}
    row["solve_rate"] = solve_rate(p["correct"], p["n"]) if p["n"] else None
    for state in ("no_answer", "timeout", "error"):
        row[state] = sum(s == state for s in p["states"])
    return row


def results_summary(cfg: EvalStageConfig, per_q: list[dict], samples: list[dict], elapsed: float) -> dict:
    from reasonsift.evaluate.metrics import summarize

    kw = dict(ks=tuple(cfg.k), greedy=cfg.temperature == 0, seed=cfg.seed)
    metrics = summarize(per_q, group_keys=("task", "split"), **kw)
    # The same metrics by domain and by format (multiple choice vs free form: CLAIMS.md C4); "all" is above.
    by = {
        key: {g: m for g, m in summarize(per_q, group_keys=(key,), **kw).items() if g != "all"}
        for key in ("domain", "format")
    }
    quality = {}
    valid = [s["trace_valid"] for s in samples if s.get("trace_valid") is not None]
    if valid:
        quality["trace_valid_rate"] = sum(valid) / len(valid)
    ig = [s["info_gain"] for s in samples if s.get("info_gain") is not None]
    if ig:
        quality["posthoc_rate"] = sum(
            bool(s["posthoc"]) for s in samples if s.get("posthoc") is not None
        ) / len(ig)
        quality["ig_total_mean"] = sum(s["ig_total"] for s in samples if s.get("ig_total") is not None) / len(
            ig
        )
    lengths = [s["n_tokens"] for s in samples]
    if lengths:
        quality["completion_tokens_mean"] = sum(lengths) / len(lengths)
    gen_tokens = sum(lengths)
    return {
        "metrics": metrics,
        "metrics_by": by,
        "quality": quality,
        "greedy": cfg.temperature == 0,
        "n_questions": len(per_q),
        "n_samples": len(samples),
        "elapsed_s": elapsed,
        "tokens_per_s": gen_tokens / elapsed if elapsed > 0 else None,
    }
