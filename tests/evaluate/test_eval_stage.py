"""`reasonsift eval` end to end on the shipped tiny model: files and columns of the contract, numbers checked
against plain recomputations (greedy accuracy against the existing greedy evaluator; pass@k against brute
force over the samples written), resume equal to an uninterrupted run."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from reasonsift.cli import app
from reasonsift.evaluate.stage import EvalStageConfig, main

MODEL = str(Path(__file__).resolve().parents[2] / "src" / "reasonsift" / "assets" / "models" / "tiny-arith")


@pytest.fixture(scope="module")
def tiny():
    from reasonsift.models import load

    return load(MODEL)


def _cfg(tmp, **kw):
    base = dict(model=MODEL, out_dir=str(tmp), tasks=["arith:test"], limit=6, workers=1, batch_size=8)
    return EvalStageConfig(**{**base, **kw})


def test_greedy_run_files_and_accuracy(tmp_path, tiny):
    from reasonsift.evaluate.accuracy import evaluate_accuracy

    res = main(_cfg(tmp_path, tasks=["arith:test", "arith:ood"]), tiny)
    s = pd.read_parquet(tmp_path / "samples.parquet")
    q = pd.read_parquet(tmp_path / "questions.parquet")
    r = json.loads((tmp_path / "results.json").read_text())
    assert len(s) == 12 and len(q) == 12 and set(s["sample"]) == {0}
    for col in ("id", "sample", "completion", "extracted", "state", "score", "n_tokens", "trace_valid"):
        assert col in s.columns, col
    for col in ("id", "task", "split", "n", "correct", "solve_rate"):
        assert col in q.columns, col
    assert (q.solve_rate == q.correct / q.n).all()
    ref = evaluate_accuracy(*tiny, ["arith"], n=6, splits=["test", "ood"])
    for split in ("test", "ood"):
        got = r["metrics"][f"arith:{split}"]["accuracy"]["value"]
        assert got == pytest.approx(ref.accuracy("arith", split)), split
    assert r["metrics"]["all"]["accuracy"]["value"] == pytest.approx((s.state == "correct").mean())
    by_format = r["metrics_by"]["format"]["free_form"]["accuracy"]["value"]  # every arith item is free form
    assert by_format == pytest.approx(r["metrics"]["all"]["accuracy"]["value"])
    assert set(r["metrics_by"]["domain"]) == set(s.domain)
    assert json.loads((tmp_path / "manifest.json").read_text())["stage"] == "eval"
    assert res.n_samples == 12
    # The greedy completions are the existing evaluator's replies, sample for sample.
    by_id = {rec["id"]: rec["response"] for rec in ref.records}
    assert all(by_id[i] == c for i, c in zip(s.id, s.completion, strict=True))


def _pass_at_k_brute(n: int, c: int, k: int) -> float:
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(i < c for i in sub) for sub in subsets) / len(subsets)


def test_sampling_pass_at_k_and_resume(tmp_path, tiny):
    kw = dict(n=4, k=[1, 2, 4], temperature=1.0, seed=3, shard_size=3)
    main(_cfg(tmp_path / "a", **kw), tiny)
    s = pd.read_parquet(tmp_path / "a" / "samples.parquet")
    r = json.loads((tmp_path / "a" / "results.json").read_text())
    assert len(s) == 24
    per_q = s.groupby("id").state.apply(lambda x: int((x == "correct").sum()))
    for k in (1, 2, 4):
        ref = sum(_pass_at_k_brute(4, c, k) for c in per_q) / len(per_q)
        assert r["metrics"]["all"][f"pass@{k}"]["value"] == pytest.approx(ref)

    def crash(i):
        if i == 0:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        main(_cfg(tmp_path / "b", **kw), tiny, on_shard=crash)
    main(_cfg(tmp_path / "b", resume=True, **kw), tiny)
    b = pd.read_parquet(tmp_path / "b" / "samples.parquet")
    pd.testing.assert_frame_equal(s, b)


def test_information_gain_of_generated_traces(tmp_path, tiny):
    main(_cfg(tmp_path, limit=3), tiny)
    s = pd.read_parquet(tmp_path / "samples.parquet")
    closed = s.completion.str.contains("</think>")
    assert closed.any() and s.loc[closed, "ig_total"].notna().all()


def test_cli_eval(tmp_path):
    out = tmp_path / "run"
    r = CliRunner().invoke(
        app,
        [
            "eval",
            "-m",
            MODEL,
            "-t",
            "arith:test",
            "--limit",
            "4",
            "-o",
            str(out),
            "--no-infogain",
            "--workers",
            "1",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "accuracy" in r.output and (out / "results.json").is_file()
    again = CliRunner().invoke(app, ["eval", "-m", MODEL, "-t", "arith", "--limit", "4", "-o", str(out)])
    assert again.exit_code != 0 and "--resume" in again.output
    bad = CliRunner().invoke(app, ["eval", "-m", MODEL, "-t", "arith", "-o", str(tmp_path / "x"), "--n", "2"])
    assert bad.exit_code != 0 and "temperature" in bad.output


def test_hybrid_report(tmp_path, tiny):
    """C2: the base arm is the base model's greedy accuracy, the steer-everywhere arm the trained model's."""
    from reasonsift.evaluate.accuracy import evaluate_accuracy
    from reasonsift.models import load

    base = MODEL.replace("tiny-arith", "tiny-arith-answer")
    main(_cfg(tmp_path, limit=8, hybrid_base=base, infogain=False), tiny)
    h = json.loads((tmp_path / "hybrid.json").read_text())
    r = json.loads((tmp_path / "results.json").read_text())
    arms = h["arms"]
    assert arms["trained"]["accuracy"] == pytest.approx(r["metrics"]["all"]["accuracy"]["value"])
    ref = evaluate_accuracy(*load(base), ["arith"], n=8, splits=["test"]).accuracy("arith", "test")
    assert arms["base"]["accuracy"] == pytest.approx(ref) and arms["base"]["fraction_steered"] == 0
    assert 0 < arms["hybrid_forking"]["fraction_steered"] < arms["trained"]["fraction_steered"]
    assert set(h["gap_recovered"]["hybrid_forking"]) >= {"gap_recovered", "ci_low", "ci_high"}
    with pytest.raises(ValueError, match="hybrid_base"):
        _cfg(tmp_path / "x", hybrid_base=base, temperature=1.0)
