"""`reasonsift eval --export-lm-eval DIR`: the YAML + JSONL files load in lm-evaluation-harness, and on the
shipped model its exact match equals reasonsift's own greedy accuracy on the same items (arith: one string
per answer, so exact match and the task's verifier agree)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reasonsift.cli import app
from reasonsift.evaluate.lmeval import task_name

MODEL = Path(__file__).resolve().parents[2] / "src" / "reasonsift" / "assets" / "models" / "tiny-arith"


def test_export_writes_items_and_yaml(tmp_path):
    r = CliRunner().invoke(
        app,
        [
            "eval",
            "--export-lm-eval",
            str(tmp_path),
            "--task",
            "arith:test",
            "--task",
            "logic:ood",
            "--limit",
            "5",
        ],
    )
    assert r.exit_code == 0, r.output
    for name, split in (("arith", "test"), ("logic", "ood")):
        t = task_name(name, split)
        rows = [json.loads(x) for x in (tmp_path / f"{t}.jsonl").read_text().splitlines()]
        assert len(rows) == 5 and all(set(x) == {"id", "question", "answer"} for x in rows)
        yaml = (tmp_path / f"{t}.yaml").read_text()
        assert f"task: {t}" in yaml and "exact_match" in yaml and "regex" in yaml
    bad = CliRunner().invoke(app, ["eval", "--export-lm-eval", str(tmp_path), "--task", "arith:nosuch"])
    assert bad.exit_code != 0 and "split" in bad.output


@pytest.mark.slow
def test_lm_eval_runs_the_export_and_agrees(tmp_path):
    from reasonsift.evaluate.accuracy import evaluate_accuracy
    from reasonsift.models import load

    n = 8
    r = CliRunner().invoke(
        app, ["eval", "--export-lm-eval", str(tmp_path / "tasks"), "-t", "arith", "--limit", str(n)]
    )
    assert r.exit_code == 0, r.output
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    lm_eval = os.path.join(os.path.dirname(sys.executable), "lm_eval")
    cmd = [
        lm_eval,
        "--model",
        "hf",
        "--model_args",
        f"pretrained={MODEL}",
        "--tasks",
        task_name("arith", "test"),
    ]
    cmd += ["--include_path", str(tmp_path / "tasks"), "--apply_chat_template", "--device", "cpu"]
    cmd += ["--batch_size", "4", "--output_path", str(tmp_path / "out")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(next((tmp_path / "out").rglob("results_*.json")).read_text())
    em = res["results"][task_name("arith", "test")]["exact_match,after_think"]
    model, tok = load(str(MODEL))
    ours = evaluate_accuracy(model, tok, ["arith"], n=n, splits=["test"]).accuracy("arith", "test")
    assert em == pytest.approx(ours)
