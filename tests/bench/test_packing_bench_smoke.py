"""Smoke test of bench/packing_bench.py at a tiny size: every configuration runs, packed scores agree with
padded ones, and the Markdown section is written between its markers (not a timing test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "packing_bench.py"


@pytest.mark.slow
def test_packing_bench_runs_and_agrees(tmp_path):
    md = tmp_path / "bench.md"
    md.write_text("# Benchmarks\n")
    cmd = [
        sys.executable,
        str(BENCH),
        "--n",
        "6",
        "--median",
        "40",
        "--max-len",
        "200",
        "--pack-lengths",
        "64",
    ]
    cmd += ["--max-tokens", "512", "--out-md", str(md)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=600).stdout
    rows = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    assert {(r["workload"], r["batching"]) for r in rows} == {
        ("fixed", "padded"), ("fixed", "packed"), ("tail", "padded"), ("tail", "one a pass"), ("tail", "packed")
    }  # fmt: skip
    packed = [r for r in rows if r["batching"] == "packed"]
    assert {r["pack_length"] for r in packed} == {64, 512}  # the sweep and the default (min(4096, budget))
    assert all(r["max_abs_diff"] < 1e-4 for r in packed)
    assert len({r["tokens"] for r in rows if r["workload"] == "tail"}) == 1  # same tokens, every batching
    text = md.read_text()
    assert text.count("<!-- packing_bench:begin -->") == 1 and "x fixed padded" in text
