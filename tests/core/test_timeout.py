import threading
import time

import pytest

from reasonsift.utils.timeout import VerifierTimeout, call_with_timeout


def _forever(x):
    while True:
        x += 1


def _boom():
    raise KeyError("bad answer")


def test_returns_value_and_kwargs():
    assert call_with_timeout(pow, 2, 10, timeout=5) == 1024
    assert call_with_timeout(sorted, [3, 1, 2], reverse=True, timeout=5) == [3, 2, 1]


def test_hanging_verifier_is_killed_at_the_deadline():
    t = time.perf_counter()
    with pytest.raises(VerifierTimeout, match="exceeded 0.5 s"):
        call_with_timeout(_forever, 0, timeout=0.5)
    assert time.perf_counter() - t < 5


def test_works_outside_the_main_thread():
    out = {}

    def run():
        try:
            call_with_timeout(_forever, 0, timeout=0.3)
        except VerifierTimeout as e:
            out["err"] = e

    th = threading.Thread(target=run)
    th.start()
    th.join(10)
    assert isinstance(out.get("err"), VerifierTimeout)


def test_verifier_exception_is_reported():
    with pytest.raises(RuntimeError, match="KeyError"):
        call_with_timeout(_boom, timeout=5)
    with pytest.raises(ValueError, match="timeout"):
        call_with_timeout(_boom, timeout=0)
