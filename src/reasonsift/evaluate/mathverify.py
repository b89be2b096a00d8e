"""Math answers checked by Math-Verify (``math_verify.parse`` / ``math_verify.verify``) in worker processes
with a hard timeout.

Math-Verify's own timeout is ``signal.alarm``: main-thread only, and known to hang or kill workers in
training loops (trl PR #5281, verl PR #5839). So its timeouts are turned off (``parsing_timeout=None``,
``timeout_seconds=None``) and each check instead runs in a child process of a small pool; a child that
exceeds the deadline is killed and replaced, and its item is ``timeout`` (never ``wrong``); an exception in
the check is ``error``. The children come from the ``forkserver`` context (``spawn`` where there is none):
unlike ``fork`` they do not copy the parent's threads and locks (a tokenizer's thread pool, a CUDA context).

Without math-verify installed, :data:`HAVE_MATH_VERIFY` is False and callers (``verifier_for``) fall back to
an exact string match, saying so in each outcome's ``detail``.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import time
from collections.abc import Callable, Sequence
from importlib.util import find_spec
from multiprocessing.connection import wait
from typing import Any

from reasonsift.evaluate.extract import answer_part, extract_answer
from reasonsift.tasks.outcome import CORRECT, ERROR, NO_ANSWER, STATES, TIMEOUT, WRONG, Outcome

HAVE_MATH_VERIFY = find_spec("math_verify") is not None
INSTALL_HINT = "math-verify is not installed (pip install 'reasonsift[eval]')"

# A check returns (state, score, extracted, detail): plain values, so they cross the process boundary.
Check = Callable[[str, str], tuple[str, float, str | None, str]]


def normalize(s: str) -> str:
    """Lower case, no surrounding ``$`` or whitespace, no trailing period, single spaces; numbers as floats
    (``1,000`` and ``1000.0`` -> ``1000``).

    >>> normalize(" $1,000.0$. "), normalize("Max  is RED")
    ('1000', 'max is red')
    """
    t = " ".join(s.strip().rstrip(".").strip().strip("$").strip().rstrip(".").split()).lower()
    try:
        v = float(t.replace(",", ""))
    except ValueError:
        return t
    return f"{v:g}" if v == v and abs(v) < 1e15 else t


def exact_check(completion: str, gold: str) -> tuple[str, float, str | None, str]:
    """The extracted answer (:func:`extract_answer`) equals the gold answer after :func:`normalize`."""
    got = extract_answer(completion)
    if got is None:
        return NO_ANSWER, 0.0, None, "no answer extracted"
    ok = normalize(got) == normalize(gold)
    return (CORRECT if ok else WRONG), (1.0 if ok else 0.0), got, "exact match"


def math_check(completion: str, gold: str) -> tuple[str, float, str | None, str]:
    """Math-Verify on the answer part (text after ``</think>``) against the gold answer, its own timeouts off.
    Where Math-Verify parses nothing (a word answer), the exact match decides."""
    import math_verify

    logging.getLogger("math_verify").setLevel(logging.ERROR)  # it warns that its timeout is off: on purpose
    part = answer_part(completion)
    if part is None or not part.strip():
        return NO_ANSWER, 0.0, None, "no answer part"
    # A gold that cannot be parsed is the verifier's problem (error); unparseable model output is not: it
    # parses to nothing and the exact match decides (normally ``wrong``).
    gold_p = math_verify.parse(gold, parsing_timeout=None, raise_on_error=True)
    pred_p = math_verify.parse(part, parsing_timeout=None, raise_on_error=False)
    if not gold_p or not pred_p:
        state, score, got, _ = exact_check(completion, gold)
        return (
            state,
            score,
            got,
            "exact match (Math-Verify parsed no " + ("gold)" if not gold_p else "answer)"),
        )
    ok = math_verify.verify(gold_p, pred_p, timeout_seconds=None, raise_on_error=True)
    got = str(pred_p[-1]) if isinstance(pred_p[-1], str) else str(pred_p[0])
    return (CORRECT if ok else WRONG), (1.0 if ok else 0.0), got, "math-verify"


_PRELOAD = ("__main__", "reasonsift.evaluate.mathverify", "math_verify")
STARTUP_TIMEOUT = 120.0  # seconds for a new worker to import its modules; not counted in an item's timeout


def _context() -> Any:
    if "forkserver" not in mp.get_all_start_methods():  # pragma: no cover - Windows
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    # The server imports these once and every worker forks from it, so a killed worker is replaced in
    # milliseconds; "__main__" there stops each worker from re-running the main script. Only takes effect
    # if no forkserver runs yet; otherwise workers import on their own (slower, still correct).
    ctx.set_forkserver_preload([m for m in _PRELOAD if m == "__main__" or find_spec(m) is not None])
    return ctx


def _serve(conn, check: Check) -> None:
    """Worker loop: say ``ready`` (imports done), then receive ``(index, completion, gold)`` and send
    ``(index, ok, result)``; ``None`` stops."""
    if HAVE_MATH_VERIFY:
        import math_verify  # noqa: F401 - imported before the first item's clock starts

    conn.send("ready")
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        i, completion, gold = job
        try:
            conn.send((i, True, check(completion, gold)))
        except BaseException as e:  # noqa: BLE001 - any failure of the check is the item's error
            conn.send((i, False, f"{type(e).__name__}: {e}"))


class _Worker:
    def __init__(self, ctx: Any, check: Check) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, check), daemon=True)
        self.proc.start()
        child.close()
        self.job: int | None = None
        self.deadline = 0.0
        try:
            ready = self.conn.poll(STARTUP_TIMEOUT) and self.conn.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.stop(kill=True)
            raise RuntimeError(f"verifier worker did not start within {STARTUP_TIMEOUT:g} s")

    def stop(self, *, kill: bool = False) -> None:
        if kill:
            self.proc.kill()
        else:
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                self.proc.kill()
        self.proc.join(timeout=5)
        if self.proc.is_alive():  # pragma: no cover - a worker that ignores the stop message
            self.proc.kill()
            self.proc.join()
        self.conn.close()


def run_checks(
    check: Check, completions: Sequence[str], golds: Sequence[str], *, timeout: float = 5.0, workers: int = 2
) -> list[Outcome]:
    """``check(completion, gold)`` for every pair in a pool of ``workers`` child processes, each call given
    ``timeout`` seconds of wall time from when its worker receives it. A worker past its deadline is killed and
    replaced (``timeout``); an exception in ``check`` or a worker that dies is ``error``. ``check`` must be a
    module-level function (it is pickled by reference)."""
    if len(completions) != len(golds):
        raise ValueError(f"golds: {len(golds)} answers for {len(completions)} completions")
    if timeout <= 0:
        raise ValueError(f"timeout: expected > 0 seconds, got {timeout}")
    if workers < 1:
        raise ValueError(f"workers: expected >= 1, got {workers}")
    n = len(completions)
    out: list[Outcome | None] = [None] * n
    if n == 0:
        return []
    ctx = _context()
    pool: list[_Worker] = []
    todo = list(range(n - 1, -1, -1))  # a stack, popped in order 0, 1, ...

    def replace(k: int | None) -> None:
        # A worker that cannot start leaves the pool; with none left, the remaining items are errors.
        try:
            w = _Worker(ctx, check)
        except RuntimeError as e:
            if k is not None:
                del pool[k]
            if not pool:
                for i in todo:
                    out[i] = Outcome(ERROR, 0.0, None, str(e))
                todo.clear()
            return
        if k is None:
            pool.append(w)
        else:
            pool[k] = w

    try:
        for _ in range(min(workers, n)):
            replace(None)
        while todo or any(w.job is not None for w in pool):
            for w in pool:
                if w.job is None and todo:
                    w.job = todo.pop()
                    w.conn.send((w.job, completions[w.job], golds[w.job]))
                    w.deadline = time.monotonic() + timeout
            busy = [w for w in pool if w.job is not None]
            now = time.monotonic()
            ready = wait([w.conn for w in busy], timeout=max(0.0, min(w.deadline for w in busy) - now))
            for k, w in reversed(list(enumerate(pool))):  # reversed: replace() may delete pool[k]
                if w.job is None:
                    continue
                i = w.job
                if w.conn in ready:
                    try:
                        _, ok, res = w.conn.recv()
                    except (EOFError, OSError):
                        out[i] = Outcome(
                            ERROR, 0.0, None, f"verifier worker died (exit code {w.proc.exitcode})"
                        )
                        w.stop(kill=True)
                        replace(k)
                        continue
                    out[i] = _to_outcome(res) if ok else Outcome(ERROR, 0.0, None, str(res))
                    w.job = None
                elif time.monotonic() >= w.deadline:
                    out[i] = Outcome(TIMEOUT, 0.0, None, f"verifier exceeded {timeout:g} s; worker killed")
                    w.stop(kill=True)
                    replace(k)
    finally:
        for w in pool:
            w.stop(kill=w.job is not None)
    return out  # type: ignore[return-value]


def _to_outcome(res: tuple[str, float, str | None, str]) -> Outcome:
    state, score, got, detail = res
    if state not in STATES:
        return Outcome(ERROR, 0.0, got, f"check returned unknown state {state!r}")
    try:
        return Outcome(state, score, got, detail)
    except ValueError as e:
        return Outcome(ERROR, 0.0, got, f"check returned an invalid outcome: {e}")


def verify_math(
    completions: Sequence[str], golds: Sequence[str], *, timeout: float = 5.0, workers: int = 2
) -> list[Outcome]:
    """Math-Verify outcome of each completion against its gold answer (``\\boxed{\\frac{1}{2}}`` vs ``0.5``
    is correct), in a pool with a hard per-item ``timeout``. Without math-verify: the exact match, in-process,
    with :data:`INSTALL_HINT` in each ``detail``."""
    if not HAVE_MATH_VERIFY:
        if len(completions) != len(golds):
            raise ValueError(f"golds: {len(golds)} answers for {len(completions)} completions")
        return [
            Outcome(s, sc, got, f"{d}; {INSTALL_HINT}")
            for s, sc, got, d in (exact_check(c, g) for c, g in zip(completions, golds, strict=True))
        ]
    return run_checks(CHECK, completions, golds, timeout=timeout, workers=workers)


CHECK: Check = math_check  # the function the workers run (tests replace it with one that hangs)

__all__ = [
    "CHECK",
    "HAVE_MATH_VERIFY",
    "INSTALL_HINT",
    "exact_check",
    "math_check",
    "normalize",
    "run_checks",
    "verify_math",
]
