"""Smoke test of bench/generate_bench.py at a tiny size: it runs, the greedy outputs of the backend equal the
per-example loop's, and the Markdown section is written between its markers (not a timing test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "generate_bench.py"


@pytest.mark.slow
def test_generate_bench_runs_and_agrees(tmp_path):
    md = tmp_path / "bench.md"
    md.write_text("# Benchmarks\n")
    cmd = [
        sys.executable,
        str(BENCH),
        "--prompts",
        "3",
        "--batch-size",
        "2",
        "--max-new-tokens",
        "8",
        "--n",
        "2",
    ]
    cmd += ["--threads", "1", "--out-md", str(md)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=600, env=env).stdout
    r = json.loads(next(x for x in out.splitlines() if x.startswith("{")))
    assert r["greedy_mismatches"] == 0 and r["prompts"] == 3
    assert r["loop_s"] > 0 and r["backend_s"] > 0 and r["sampled_samples_per_s"] > 0
    text = md.read_text()
    assert text.count("<!-- generate_bench:begin -->") == 1 and "x loop" in text
