"""compare_runs against a hand-made pair of runs: differences, pairing by id, refusal of unpaired runs."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reasonsift.evaluate.compare import compare_runs


def _run(d, rates: dict[str, float], task="arith", split="test"):
    d.mkdir()
    rows = [{"id": i, "task": task, "split": split, "solve_rate": r} for i, r in rates.items()]
    pq.write_table(pa.Table.from_pylist(rows), d / "questions.parquet")
    return d


def test_paired_difference_and_ci(tmp_path):
    a = _run(tmp_path / "a", {"q1": 1.0, "q2": 0.5, "q3": 0.0, "q4": 1.0})
    b = _run(tmp_path / "b", {"q4": 0.5, "q3": 0.0, "q2": 0.5, "q1": 0.5})  # another order: paired by id
    res = compare_runs(a, b, n_boot=2000)
    assert res["all"]["a"] == pytest.approx(0.625) and res["all"]["b"] == pytest.approx(0.375)
    assert res["all"]["diff"] == pytest.approx(0.25)
    # per-question differences are 0.5, 0, 0, 0.5: every resample's mean lies in [0, 0.5]
    assert 0.0 <= res["all"]["ci_low"] <= 0.25 <= res["all"]["ci_high"] <= 0.5
    assert res["arith:test"]["n_questions"] == 4


def test_unpaired_runs_refused(tmp_path):
    a = _run(tmp_path / "a", {"q1": 1.0, "q2": 0.0})
    b = _run(tmp_path / "b", {"q1": 1.0, "q3": 0.0})
    with pytest.raises(ValueError, match="same questions"):
        compare_runs(a, b)
    with pytest.raises(FileNotFoundError, match="questions.parquet"):
        compare_runs(a, tmp_path)


def test_cli_compare(tmp_path):
    from typer.testing import CliRunner

    from reasonsift.cli import app

    a = _run(tmp_path / "a", {"q1": 1.0, "q2": 0.5})
    b = _run(tmp_path / "b", {"q1": 0.0, "q2": 0.5})
    r = CliRunner().invoke(app, ["compare", str(a), str(b)])
    assert r.exit_code == 0, r.output
    assert "+0.500" in r.output and "arith:test" in r.output
    bad = CliRunner().invoke(app, ["compare", str(a), str(tmp_path)])
    assert bad.exit_code == 1 and "questions.parquet" in bad.output
