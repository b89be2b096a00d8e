"""``quality``: drop broken items, as s1 (arXiv 2501.19393) does before selecting by difficulty.

Checks, in order; the first that fails drops the record and names itself in the reason:

1. ``answer``: the answer is present and not empty (whitespace only counts as empty);
2. ``schema``: the record is a valid Example (:meth:`Example.problems`: required fields, types, choices);
3. ``trace``: where ``meta["task"]`` names a built-in task (its reference traces have a step validator), a
   non-empty trace passes ``task.check_trace``; an empty trace is not checked here (``require_trace: true``
   drops it);
4. ``verify``: where ``meta["task"]`` names a built-in task, the reference completion
   ``<think>trace</think>answer`` (:func:`completion_text`) verifies as correct by ``task.verify``.
   Verified against the example itself this only proves the answer parses (the verifier compares with the
   example's own answer), so where the item is reproducible from its meta (``seed``, ``split``, ``index``,
   ``difficulty``; tasks/base.py) and the regenerated question (and choices) equal the record's, the
   completion is verified against the regenerated item: a wrong reference answer is then caught. The column
   ``verified_against`` says which (``regenerated`` / ``self``).

A verifier that crashes or times out says nothing about the example (``Outcome`` state ``error`` /
``timeout``): the record is kept and the reason says it is unverified. ``gym:<dataset>`` tasks have a verifier
(reasoning-gym's ``score_answer``, run in a child process per item) but no trace validator; ``verify_gym:
true`` opts into verifying them.
"""

from __future__ import annotations

import random
from typing import Any

from reasonsift.data.example import Example, validate_fields
from reasonsift.data.render import completion_text
from reasonsift.select.base import Decision, Stage, register
from reasonsift.tasks import GYM_PREFIX, Task, get_task, task_names
from reasonsift.tasks.outcome import VERIFIER_FAILURES


@register
class Quality(Stage):
    name = "quality"

    def __init__(self, require_trace: bool = False, verify_gym: bool = False, **params) -> None:
        super().__init__(**params)
        for k, v in (("require_trace", require_trace), ("verify_gym", verify_gym)):
            if not isinstance(v, bool):
                raise ValueError(f"{self.name}: {k} must be true or false, got {v!r}")
        self.require_trace = require_trace
        self.verify_gym = verify_gym

    def run(self, records: list[dict], rng: random.Random) -> list[Decision]:
        builtin = set(task_names())
        return [self._one(rec, builtin) for rec in records]

    def _one(self, rec: dict[str, Any], builtin: set[str]) -> Decision:
        cols: dict[str, Any] = {
            "quality_failed": None,
            "trace_valid": None,
            "answer_verified": None,
            "verified_against": None,
        }

        def drop(check: str, why: str) -> Decision:
            cols["quality_failed"] = check
            return Decision(False, why, cols)

        answer = rec.get("answer")
        if answer is None or (isinstance(answer, str) and not answer.strip()):
            return drop("answer", "empty answer" if answer is not None else "no answer")
        problems = validate_fields(rec)
        if problems:
            return drop("schema", "invalid example: " + "; ".join(f"{f}: {m}" for f, m in problems))
        ex = Example.from_dict(rec)
        if self.require_trace and not ex.trace.strip():
            return drop("trace", "empty trace (require_trace)")
        task_name = ex.meta.get("task") if isinstance(ex.meta, dict) else None
        checked = ["answer", "schema"]
        if task_name in builtin:
            task = get_task(task_name)
            if ex.trace.strip():
                check = task.check_trace(ex, ex.trace)
                cols["trace_valid"] = check.valid
                if not check.valid:
                    step = "" if check.step is None else f" at step {check.step}"
                    return drop("trace", f"invalid trace for task {task_name}{step}: {check.reason}")
                checked.append("trace")
        elif not (self.verify_gym and isinstance(task_name, str) and task_name.startswith(GYM_PREFIX)):
            why = "no task in meta" if task_name is None else f"no built-in verifier for task {task_name!r}"
            return Decision(True, f"valid example, non-empty answer ({why})", cols)
        else:
            task = get_task(task_name)
        truth = regenerate(task, ex) if task_name in builtin else None
        cols["verified_against"] = "self" if truth is None else "regenerated"
        outcome = task.verify(completion_text(ex), truth or ex)
        cols["answer_verified"] = outcome.state
        if outcome.state in VERIFIER_FAILURES:
            detail = f": {outcome.detail}" if outcome.detail else ""
            return Decision(True, f"kept unverified: task {task_name} verifier {outcome.state}{detail}", cols)
        if not outcome.correct:
            got = "" if outcome.extracted is None else f" (extracted {outcome.extracted!r})"
            against = "" if truth is None else f" against regenerated item (answer {truth.answer!r})"
            return drop(
                "verify",
                f"reference answer not verified by task {task_name}{against}: {outcome.state}{got}",
            )
        checked.append("verify" if truth is None else "verify (regenerated item)")
        return Decision(True, f"passed {', '.join(checked)} (task {task_name})", cols)


def regenerate(task: Task, ex: Example) -> Example | None:
    """The built-in task's own item for this record, rebuilt from ``meta`` (seed, split, index, difficulty),
    or None when the meta does not reproduce the record's question (and choices)."""
    m = ex.meta
    try:
        kw: dict[str, Any] = {"seed": m["seed"], "split": m["split"], "difficulty": m.get("difficulty")}
        if ex.format == "multiple_choice":
            kw.update(format="multiple_choice", n_choices=len(ex.choices or []))
        truth = task.example(m["index"], **kw)
    except (KeyError, TypeError, ValueError, NotImplementedError):
        return None
    if truth.question != ex.question or truth.choices != ex.choices:
        return None
    return truth
