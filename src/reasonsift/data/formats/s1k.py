"""s1K / s1K-1.1 (arXiv 2501.19393): ``question``, ``solution``, ``<model>_thinking_trajectory``, ``<model>_attempt``.

Rule: ``answer`` is the reference ``solution`` (what s1 grades attempts against), ``trace`` is one model's
thinking trajectory and that model's ``attempt`` goes to ``meta["attempt"]``. The model is DeepSeek-R1
(``deepseek_*``, the traces s1K-1.1 trains on) when present, else the first ``*_thinking_trajectory`` column
in sorted order, else s1K-1.0's ``thinking_trajectories`` list. ``--map trace=gemini_thinking_trajectory``
picks another trace; ``--map answer=deepseek_attempt`` trains on the attempt instead of the solution.
"""

from __future__ import annotations

from typing import Any

from reasonsift.data.formats.base import Context, FieldProblem, Importer, extra_fields, need, need_trace

TRAJ = "_thinking_trajectory"


def trace_column(columns: list[str]) -> str | None:
    """The trajectory column this importer reads from a record or file with ``columns``."""
    if "trace" in columns:
        return "trace"
    if "deepseek" + TRAJ in columns:
        return "deepseek" + TRAJ
    found = sorted(c for c in columns if c.endswith(TRAJ))
    if found:
        return found[0]
    return "thinking_trajectories" if "thinking_trajectories" in columns else None


def convert(rec: dict[str, Any], ctx: Context) -> tuple[dict[str, Any], set[str]]:
    d, used = extra_fields(rec, ctx)
    col = trace_column(list(rec))
    if col is None:
        raise FieldProblem("thinking_trajectory", "missing required field")
    trace = rec[col]
    if col == "thinking_trajectories" and isinstance(trace, list):
        if not all(isinstance(t, str) for t in trace):
            raise FieldProblem(col, "expected a list of strings")
        trace = "\n\n".join(trace)
    trace = need_trace({col: trace}, col)  # s1K is its trajectories: a null or empty one is not an example
    d.update(question=need(rec, "question"), trace=trace)
    used |= {"question", col}
    answer_col = "answer" if "answer" in rec else "solution"
    d["answer"] = need(rec, answer_col)
    used.add(answer_col)
    model = col[: -len(TRAJ)] if col.endswith(TRAJ) else ""
    attempt_col = f"{model}_attempt" if model else "attempt"
    meta: dict[str, Any] = {}
    if attempt_col in rec and attempt_col != answer_col:
        meta["attempt"] = rec[attempt_col]
        used.add(attempt_col)
    if model:
        meta["trace_model"] = model
    if "cot_type" in rec and isinstance(rec["cot_type"], str) and "domain" not in rec:
        d["domain"] = rec["cot_type"]  # s1K's math / science / crossword
    d["meta"] = {**meta, **(d.get("meta") or {})}
    return d, used


def missing(columns: list[str]) -> str | None:
    absent = [] if "question" in columns else ["column 'question'"]
    if trace_column(columns) is None:
        absent.append("a '*_thinking_trajectory' column")
    return ", ".join(absent) or None


IMPORTER = Importer(
    "s1k",
    "s1K/s1K-1.1: question, solution, <model>_thinking_trajectory, <model>_attempt",
    convert,
    missing,
)
