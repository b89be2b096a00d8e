"""Smoke test of bench/profile_bench.py at a tiny size: every method runs, and all agree with a plain float64
reference (not a timing test). The bench scripts live outside the package, so they are loaded by path."""

from __future__ import annotations

import importlib
import math
import sys
from pathlib import Path

import pytest
import torch

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def pb():
    # One thread: tiny matmuls gain nothing from two, and on a shared machine OpenMP spin-waits slow them 10x.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module("profile_bench")
    finally:
        sys.path.remove(str(BENCH))
        torch.set_num_threads(threads)


def _reference(model, batch) -> tuple[torch.Tensor, torch.Tensor]:
    """Float64 entropy and target log-prob, position by position, from an unpadded forward per example."""
    ents, lps = [], []
    with torch.no_grad():
        for i in range(batch.input_ids.shape[0]):
            n = int(batch.attention_mask[i].sum())
            ids = batch.input_ids[i, :n]
            logits = model(input_ids=ids[None]).logits[0].double()
            for t in range(n - 1):
                if not batch.score_mask[i, t]:
                    continue
                p = torch.softmax(logits[t], -1)
                ents.append(-(p * p.log()).sum())
                lps.append(p[ids[t + 1]].log())
    return torch.stack(ents), torch.stack(lps)


def test_score_mask_covers_exactly_the_assistant_turn(pb):
    from profile_setup import arith_workload

    from reasonsift.data.render import completion_text
    from reasonsift.models.tokenizer import build_tokenizer
    from reasonsift.tasks import get_task

    tok = build_tokenizer()
    work = arith_workload(batch=3, num_batches=2, seq_len=1024)
    assert sorted(r for b in work.batches for r in b.rows) == list(range(6))
    lengths = [int(n) for b in work.batches for n in b.attention_mask.sum(1)]
    assert lengths == sorted(lengths, reverse=True)  # longest first, as reasonsift profile batches
    task = get_task("arith")
    for batch in work.batches:
        for i, k in enumerate(batch.rows):
            ex = task.example(k, seed=0, difficulty=1 + k % task.max_difficulty)
            scored = batch.input_ids[i, 1:][batch.score_mask[i]]
            assert tok.decode(scored) == completion_text(ex) + "</s>"


def test_all_methods_agree_with_float64_reference(pb):
    cfg = pb.BenchConfig(model="builtin", batch=3, num_batches=2, repeats=1, isolate=False).resolve()
    results, _ = pb.run_in_process(cfg, cfg.method_list())
    assert [m.method for m in results] == list(pb.METHODS)
    loaded, work, _, _ = pb._setup(cfg)
    refs = [_reference(loaded.model, b) for b in work.batches]
    ref_ent = torch.cat([r[0] for r in refs]).float()
    ref_lp = torch.cat([r[1] for r in refs]).float()
    assert ref_ent.std() > 0.1  # peaked, varied distributions: a misaligned gather could not pass
    for m in results:
        assert m.n_scored == ref_ent.numel() == work.n_scored
        assert len(m.times_s) == 1 and m.times_s[0] > 0
        if m.method == "backbone_only":
            assert m.entropy is None
            continue
        torch.testing.assert_close(m.entropy, ref_ent, atol=1e-4, rtol=1e-4, msg=m.method)
        torch.testing.assert_close(m.logprob, ref_lp, atol=1e-4, rtol=1e-4, msg=m.method)


def test_builtin_model_prefers_a_checkpoint(pb, tmp_path, monkeypatch):
    from profile_setup import build_model

    from reasonsift.models.tiny import build_tiny_model
    from reasonsift.models.tokenizer import build_tokenizer

    tok = build_tokenizer()
    saved = build_tiny_model(tok, seed=3)
    saved.save_pretrained(tmp_path / "models" / "tiny-arith")
    tok.save_pretrained(tmp_path / "models" / "tiny-arith")
    monkeypatch.setenv("REASONSIFT_CACHE", str(tmp_path))
    loaded = build_model("builtin", dtype=torch.float32, device="cpu", attn="sdpa")
    assert loaded.description.startswith("built-in checkpoint")
    if str(tmp_path) in loaded.description:  # a shipped asset, when present, takes precedence over the cache
        w = loaded.model.get_output_embeddings().weight
        assert torch.equal(w, saved.get_output_embeddings().weight)


def test_out_of_memory_skips_the_method(pb, monkeypatch):
    def boom(runner, batch):
        raise torch.OutOfMemoryError("simulated")

    monkeypatch.setitem(pb.ALL_METHODS, "batched_fp32", boom)
    cfg = pb.BenchConfig(batch=2, num_batches=1, repeats=1, isolate=False, methods="reasonsift,batched_fp32")
    results, info = pb.run_in_process(cfg.resolve(), ["reasonsift", "batched_fp32"])
    assert [m.method for m in results] == ["reasonsift"] and info["skipped_oom"] == ["batched_fp32"]


def test_main_writes_json_and_replaces_its_table(pb, tmp_path):
    md = tmp_path / "benchmarks.md"
    md.write_text("# Benchmarks\n\n## Built-in model\n\nother engineer's text\n")
    argv = ["--model", "builtin", "--batch", "2", "--num-batches", "1", "--repeats", "1", "--no-isolate"]
    argv += ["--methods", "backbone_only,reasonsift,per_example_fp32", "--out-md", str(md)]
    result = pb.main([*argv, "--json", str(tmp_path / "r.json")])
    assert (tmp_path / "r.json").exists()
    rows = {r["method"]: r for r in result["methods"]}
    assert rows["per_example_fp32"]["reference"] and rows["per_example_fp32"]["x_per_example"] == 1.0
    assert math.isclose(
        rows["reasonsift"]["x_backbone"],
        rows["reasonsift"]["tokens_per_s"] / rows["backbone_only"]["tokens_per_s"],
    )
    first = md.read_text()
    assert "other engineer's text" in first and "| reasonsift |" in first
    pb.main(argv)
    second = md.read_text()
    assert second.count("<!-- profile-bench:builtin:cpu:start -->") == 1
    assert second.count("## Profile engine") == 1
    assert second.startswith("# Benchmarks\n\n## Built-in model\n\nother engineer's text\n")


def test_replace_block_keeps_other_sections_and_configs(pb):
    from profile_report import replace_block

    doc = "# B\n\n## Built-in model\n\nA\n"
    d1 = replace_block(doc, "builtin:cpu", "T1", "intro")
    d2 = replace_block(d1, "qwen:cpu", "T2", "intro")
    d3 = replace_block(d2 + "\n## Later\n\nL\n", "builtin:cpu", "T1b", "intro")
    assert d1.startswith(doc) and "## Profile engine\n\nintro\n\n" in d1
    assert d2.index("T1") < d2.index("T2")
    assert "T1b" in d3 and "T1\n" not in d3 and d3.endswith("## Later\n\nL\n") and "T2" in d3
    assert replace_block(d3, "builtin:cpu", "T1b", "intro") == d3
    d4 = replace_block(d3, "new:cpu", "T3", "intro")  # a new block goes inside the section, before "## Later"
    assert d4.index("T3") < d4.index("## Later")


def test_disagreement_is_an_error(pb):
    result = {
        "tolerance": 1e-3,
        "reference": "per_example_fp32",
        "methods": [{"method": "trl", "max_abs_diff": (0.5, 0.0)}, {"method": "x", "max_abs_diff": None}],
    }
    with pytest.raises(AssertionError, match="trl"):
        pb.check_agreement(result)


@pytest.mark.parametrize(
    "kw, field",
    [({"model": "gpt5"}, "model"), ({"dtype": "int8"}, "dtype"), ({"methods": "nope"}, "methods"),
     ({"methods": "reasonsift_compiled"}, "methods")],
)  # fmt: skip
def test_invalid_config_names_the_field(pb, kw, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        pb.BenchConfig(**kw).resolve()


@pytest.mark.slow
def test_isolated_subprocesses_and_compile(pb):
    cfg = ["--model", "builtin", "--batch", "2", "--num-batches", "1", "--repeats", "1", "--compile"]
    result = pb.main([*cfg, "--methods", "per_example_fp32,reasonsift,reasonsift_compiled"])
    rows = {r["method"]: r for r in result["methods"]}
    assert max(rows["reasonsift_compiled"]["max_abs_diff"]) < 1e-3
    assert result["memory_kind"].startswith("peak RSS above RSS after load")
    assert all(r["peak_bytes"] >= 0 for r in result["methods"])
