"""The vLLM backend is import-guarded: without vLLM it says what to install (it is never run here: no GPU)."""

from __future__ import annotations

import sys

import pytest

from reasonsift.evaluate.backends import get_backend


def test_missing_vllm_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # `import vllm` now raises ImportError
    with pytest.raises(ImportError, match=r"pip install reasonsift\[vllm\]"):
        get_backend("vllm", "some/model")


class _FakeVLLM:
    """A stand-in for the ``vllm`` module: records how ``LLM`` was built and answers every prompt with the
    same completion (the backend's mapping and the eval stage's wiring are what is checked, not vLLM)."""

    built: list[dict] = []

    class SamplingParams:
        def __init__(self, **kw):
            self.kw = kw

    class LLM:
        def __init__(self, model, **kw):
            _FakeVLLM.built.append({"model": model, **kw})

        def generate(self, prompts, params, use_tqdm=False):
            from types import SimpleNamespace as NS

            out = NS(
                text="<think>1+1=2</think>2", token_ids=[1, 2, 3], finish_reason="stop", stop_reason=None
            )
            return [NS(outputs=[out] * params.kw["n"]) for _ in prompts]


def test_eval_stage_builds_vllm_by_name_with_tensor_parallel(monkeypatch, tmp_path):
    from reasonsift.evaluate.stage import EvalStageConfig
    from reasonsift.evaluate.stage import main as evaluate
    from reasonsift.models.builtin import ensure_builtin_model

    monkeypatch.setitem(sys.modules, "vllm", _FakeVLLM)
    _FakeVLLM.built.clear()
    model = str(ensure_builtin_model("tiny-arith", progress=False))
    cfg = EvalStageConfig(model=model, tasks=["arith"], limit=3, out_dir=str(tmp_path / "ev"), backend="vllm",
                          tensor_parallel_size=2, infogain=False, progress=False, workers=1)  # fmt: skip
    res = evaluate(cfg)
    assert _FakeVLLM.built == [{"model": model, "tensor_parallel_size": 2, "trust_remote_code": False}]
    assert res.n_samples == 3
    import pyarrow.parquet as pq

    rows = pq.read_table(tmp_path / "ev" / "samples.parquet").to_pylist()
    assert {r["completion"] for r in rows} == {"<think>1+1=2</think>2"} and {r["n_tokens"] for r in rows} == {
        3
    }
    assert {r["finish_reason"] for r in rows} == {"eos"}
