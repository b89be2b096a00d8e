"""Run a verifier on untrusted text with a hard time limit.

A verifier that parses model output (a sympy expression, a regex with backtracking) can hang on adversarial or
degenerate text, and a hang inside C code cannot be interrupted by a signal or a thread. So the call runs in a
forked child process that is killed at the deadline: it works from any thread (unlike Math-Verify's
``signal.alarm``, which is main-thread-only), and the child inherits the verifier's state without pickling it.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class VerifierTimeout(TimeoutError):
    """The verifier did not return within its time limit."""


def _child(conn, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    try:
        conn.send((True, fn(*args, **kwargs)))
    except BaseException as e:  # noqa: BLE001 - any failure is reported to the parent
        conn.send((False, f"{type(e).__name__}: {e}"))
    finally:
        conn.close()


def call_with_timeout(fn: Callable[..., T], *args: Any, timeout: float = 5.0, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a forked child; :class:`VerifierTimeout` after ``timeout`` seconds.

    The result must be picklable. An exception in ``fn`` is re-raised here as ``RuntimeError`` with its text.
    Where ``fork`` is unavailable (Windows), ``fn`` runs in-process without a limit.
    """
    if timeout <= 0:
        raise ValueError(f"timeout: expected > 0 seconds, got {timeout}")
    if "fork" not in mp.get_all_start_methods():  # pragma: no cover - Windows
        return fn(*args, **kwargs)
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fn, args, kwargs), daemon=True)
    proc.start()
    send.close()
    try:
        if not recv.poll(timeout):
            raise VerifierTimeout(f"verifier {getattr(fn, '__qualname__', fn)!r} exceeded {timeout:g} s")
        ok, value = recv.recv()
    except EOFError:
        raise RuntimeError(
            f"verifier {getattr(fn, '__qualname__', fn)!r} died (exit code {proc.exitcode})"
        ) from None
    finally:
        recv.close()
        if proc.is_alive():
            proc.kill()
        proc.join()
    if not ok:
        raise RuntimeError(value)
    return value


__all__ = ["VerifierTimeout", "call_with_timeout"]
