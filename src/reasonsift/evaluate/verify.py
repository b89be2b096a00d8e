"""Which verifier judges an example, and verifying a whole batch of completions.

A verifier is a plain function ``(completion, example) -> Outcome``. :func:`verifier_for` picks one by
``kind``; ``"auto"`` chooses in this order:

====  ==========  =====================================================================================
rank  kind        when, and what it checks
====  ==========  =====================================================================================
1     ``task``    ``example.meta["task"]`` names a built-in task or ``gym:<dataset>`` (a reasoning-gym item
                  also by ``meta["source_dataset"]``): the task's own ``Task.verify`` (exact answer; the maze
                  plan checker; reasoning-gym's ``score_answer``, only 1.0 is correct)
2     ``mc``      a multiple-choice example: the final answer names the correct option letter
3     ``math``    otherwise, with math-verify installed: Math-Verify against ``example.answer`` in a worker
                  pool with a hard timeout (:mod:`reasonsift.evaluate.mathverify`)
4     ``exact``   otherwise: :func:`extract_answer` equals ``example.answer`` after normalisation
====  ==========  =====================================================================================

A verifier that raises, hangs or cannot be resolved (an unknown task name) gives ``error`` or ``timeout``,
never ``wrong``: those are the verifier's failures, counted apart from the model's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reasonsift.data.example import Example
from reasonsift.evaluate import mathverify
from reasonsift.evaluate.mathverify import INSTALL_HINT, exact_check, verify_math
from reasonsift.tasks import GYM_PREFIX, get_task
from reasonsift.tasks.base import verify_letter
from reasonsift.tasks.outcome import ERROR, Outcome

Verifier = Callable[[str, Example], Outcome]
KINDS = ("auto", "task", "mc", "math", "exact")


def task_name(example: Example) -> str | None:
    """The task an example belongs to: ``meta["task"]``, or ``gym:<meta["source_dataset"]>`` for a
    reasoning-gym item (``source`` starting ``reasoning_gym:``); ``None`` for plain data."""
    name = example.meta.get("task")
    if name:
        return str(name)
    if example.source.startswith("reasoning_gym:") and example.meta.get("source_dataset"):
        return GYM_PREFIX + str(example.meta["source_dataset"])
    return None


def resolve_kind(example: Example, kind: str = "auto") -> str:
    """The concrete kind (``task``, ``mc``, ``math`` or ``exact``) that ``kind`` means for this example."""
    if kind not in KINDS:
        raise ValueError(f"kind: unknown {kind!r}; expected one of {', '.join(KINDS)}")
    if kind != "auto":
        return kind
    if task_name(example) is not None:
        return "task"
    if example.format == "multiple_choice":
        return "mc"
    return "math" if mathverify.HAVE_MATH_VERIFY else "exact"


def verify_exact(completion: str, example: Example) -> Outcome:
    """Normalised string equality of :func:`extract_answer` with ``example.answer``.

    >>> verify_exact("<think>..</think>The answer is 1,000.", Example("e", "q", "1000")).state
    'correct'
    """
    return Outcome(*exact_check(completion, example.answer))


def verify_math_one(completion: str, example: Example, *, timeout: float = 5.0) -> Outcome:
    """Math-Verify on one completion (a one-worker pool: use :func:`verify_all` for many)."""
    return verify_math([completion], [example.answer], timeout=timeout, workers=1)[0]


def _exact_noted(completion: str, example: Example) -> Outcome:
    o = verify_exact(completion, example)
    return Outcome(o.state, o.score, o.extracted, f"{o.detail}; {INSTALL_HINT}")


def _task_verifier(example: Example) -> Verifier:
    name = task_name(example)
    if name is None:
        raise ValueError(f"example {example.id!r}: meta has no 'task' to verify with")
    return get_task(name).verify


def verifier_for(example: Example, *, kind: str = "auto") -> Verifier:
    """The verifier for ``example`` (``kind`` in ``auto``, ``task``, ``mc``, ``math``, ``exact``; see the
    module docstring). ``math`` without math-verify installed is the exact match, with a note in ``detail``.
    Raises ``ValueError`` for an unknown kind or task."""
    k = resolve_kind(example, kind)
    if k == "task":
        return _task_verifier(example)
    if k == "mc":
        return verify_letter
    if k == "math":
        return verify_math_one if mathverify.HAVE_MATH_VERIFY else _exact_noted
    return verify_exact


def _safe(verifier: Verifier, completion: str, example: Example) -> Outcome:
    try:
        out = verifier(completion, example)
    except Exception as e:  # noqa: BLE001 - a verifier crash is the verifier's error, not a wrong answer
        return Outcome(ERROR, 0.0, None, f"verifier raised {type(e).__name__}: {e}")
    if not isinstance(out, Outcome):
        return Outcome(ERROR, 0.0, None, f"verifier returned {type(out).__name__}, not an Outcome")
    return out


def verify_all(
    completions: Sequence[str],
    examples: Sequence[Example],
    *,
    timeout: float = 5.0,
    workers: int = 2,
    kind: str = "auto",
) -> list[Outcome]:
    """The outcome of each completion against its example (same order). Math items go through one
    Math-Verify pool (``workers`` processes, ``timeout`` seconds each); the others call their verifier
    in-process. Never raises on a verifier's failure: it becomes that item's ``error``."""
    if len(completions) != len(examples):
        raise ValueError(f"examples: {len(examples)} examples for {len(completions)} completions")
    if kind not in KINDS:
        raise ValueError(f"kind: unknown {kind!r}; expected one of {', '.join(KINDS)}")
    out: list[Outcome | None] = [None] * len(completions)
    math_idx: list[int] = []
    for i, (c, ex) in enumerate(zip(completions, examples, strict=True)):
        try:
            k = resolve_kind(ex, kind)
            if k == "math" and mathverify.HAVE_MATH_VERIFY:
                math_idx.append(i)
                continue
            verifier = verifier_for(ex, kind=k)
        except Exception as e:  # noqa: BLE001 - an unresolvable verifier is this item's error
            out[i] = Outcome(ERROR, 0.0, None, f"no verifier: {e}")
            continue
        out[i] = _safe(verifier, c, ex)
    if math_idx:
        results = verify_math(
            [completions[i] for i in math_idx],
            [examples[i].answer for i in math_idx],
            timeout=timeout,
            workers=workers,
        )
        for i, o in zip(math_idx, results, strict=True):
            out[i] = o
    return out  # type: ignore[return-value]


__all__ = [
    "KINDS",
    "Verifier",
    "resolve_kind",
    "task_name",
    "verifier_for",
    "verify_all",
    "verify_exact",
    "verify_math_one",
]
