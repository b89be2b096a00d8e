"""Information gain of generated traces: each sample becomes an Example (question, generated trace and answer)
and the profile engine scores the answer's NLL after each step (CLAIMS.md C6; docs/profile.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from reasonsift.data.example import Example

if TYPE_CHECKING:
    from reasonsift.evaluate.stage import EvalStageConfig


def generated_examples(rows: list[dict], examples: list[Example]) -> list[Example | None]:
    """Each sample as an Example (the question, the generated trace and answer): what the profile scores.
    None for a sample without a closed ``<think>`` block or without an answer after it."""
    from reasonsift.data.render import THINK_CLOSE, THINK_OPEN

    out: list[Example | None] = []
    for row, ex in zip(rows, examples, strict=True):
        text = row["completion"]
        if THINK_CLOSE not in text:
            out.append(None)
            continue
        trace, answer = text.rsplit(THINK_CLOSE, 1)
        trace, answer = trace.removeprefix(THINK_OPEN).strip(), answer.strip()
        if not answer or not trace or THINK_OPEN in trace or THINK_CLOSE in trace:
            out.append(None)
            continue
        out.append(
            Example(
                id=f"{row['id']}#{row['sample']}",
                question=ex.question,
                trace=trace,
                answer=answer,
                choices=ex.choices,
                format=ex.format,
                domain=ex.domain,
                source=f"eval:{row['id']}",
            )  # fmt: skip
        )
    return out


def add_infogain(cfg: EvalStageConfig, rows: list[dict], examples: list[Example], scorer) -> None:
    """Information gain of each generated trace (answer NLL after each step; profile engine, KV cache)."""
    import tempfile

    from reasonsift.profile import ProfileConfig, run_profile

    gen = generated_examples(rows, examples)
    todo = [(row, e) for row, e in zip(rows, gen, strict=True) if e is not None and e.problems() == []]
    if not todo:
        return
    with tempfile.TemporaryDirectory() as tmp:
        pcfg = ProfileConfig(
            out_dir=tmp, model=cfg.scorer_model or cfg.model, ifd=False, top_k=0, overflow="reject",
            batch_size=cfg.batch_size, progress=False,
        )  # fmt: skip
        try:
            res = run_profile(pcfg, scorer, examples=[e for _, e in todo])
        except ValueError:
            return  # nothing fitted the scorer's context: the columns stay null
        t = pq.read_table(Path(res.out_dir) / "examples", columns=["id", "info_gain", "ig_total", "posthoc"])
        by_id = {r["id"]: r for r in t.to_pylist()}
    for row, e in todo:
        r = by_id.get(e.id)
        if r is not None:
            row.update(info_gain=r["info_gain"], ig_total=r["ig_total"], posthoc=r["posthoc"])
