"""`train sft` under `accelerate launch` with two CPU processes (gloo): the multi-GPU code path without a GPU —
the `global` forking pool gathers entropies across processes, the run directory is written once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from train_helpers import TINY, curves

from reasonsift.data.io import write_examples
from reasonsift.tasks import get_task

CONFIG = Path(__file__).parents[2] / "configs" / "accelerate" / "cpu_2proc.yaml"


def test_sft_forking_global_pool_on_two_processes(tmp_path):
    data = tmp_path / "arith.jsonl"
    write_examples(get_task("arith").generate(8), data)
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(CONFIG), "-m", "reasonsift",
           "train", "sft", "--model", str(TINY), "--data", str(data), "-o", str(out), "--mask", "forking",
           "--pool", "global", "--max-steps", "2", "--batch-size", "2", "--lr", "1e-3"]  # fmt: skip
    env = {"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    rows = curves(out)
    assert [c["step"] for c in rows] == [1, 2]
    # the main process's micro-batch: the global pool keeps some but not all of its completion tokens
    assert all(0 < c["tokens_in_loss"] < c["completion_tokens"] for c in rows)
    assert json.loads((out / "config.json").read_text())["config"]["pool"] == "global"
    assert (out / "model" / "config.json").is_file() and (out / "manifest.json").is_file()
