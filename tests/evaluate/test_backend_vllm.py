"""The vLLM backend is import-guarded: without vLLM it says what to install (it is never run here: no GPU)."""

from __future__ import annotations

import sys

import pytest

from reasonsift.evaluate.backends import get_backend


def test_missing_vllm_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # `import vllm` now raises ImportError
    with pytest.raises(ImportError, match=r"pip install reasonsift\[vllm\]"):
        get_backend("vllm", "some/model")
