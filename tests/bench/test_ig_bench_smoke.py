"""Smoke test of bench/ig_bench.py at a tiny size: both subprocesses run, the KV-cached information gain agrees
with separate passes, and the Markdown section is written between its markers (not a timing test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "ig_bench.py"


@pytest.mark.slow
def test_ig_bench_runs_and_agrees(tmp_path):
    md = tmp_path / "bench.md"
    md.write_text("# Benchmarks\n")
    cmd = [sys.executable, str(BENCH), "--traces", "1", "--ratio-traces", "1", "--steps", "3"]
    cmd += ["--threads", "1", "--work", str(tmp_path), "--out-md", str(md)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=600).stdout
    rows = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    comp = next(r for r in rows if r["config"] == "components")
    assert comp["max_abs_nll_diff"] < 1e-4  # the cache path equals the separate-pass reference
    assert comp["main_s_per_trace"] > 0 and comp["ig_cache_s_per_trace"] > 0
    default = next(r for r in rows if r["config"] == "default")
    assert default["ig_method"] == "kv-cache prefixes" and default["traces"] == 1
    text = md.read_text()
    assert text.count("<!-- ig_bench:begin -->") == 1 and "x main pass" in text
