"""`reasonsift data generate` and `reasonsift data corrupt` through typer's CliRunner."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from reasonsift.cli import app
from reasonsift.data.io import read_examples
from reasonsift.tasks import get_task

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["data", *args])


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_generate_writes_the_task_items(tmp_path, suffix):
    out = tmp_path / f"maze.{suffix}"
    args = ["generate", "maze", "-n", "6", "--seed", "3", "--split", "ood", "--difficulty", "2"]
    res = _run(*args, "--format", "multiple_choice", "-o", str(out))
    assert res.exit_code == 0, res.output
    got = read_examples(out).examples
    want = get_task("maze").generate(6, seed=3, split="ood", difficulty=2, format="multiple_choice")
    assert [e.to_dict() for e in got] == [e.to_dict() for e in want]


def test_generate_gym(tmp_path):
    out = tmp_path / "g.jsonl"
    res = _run("generate", "gym:chain_sum", "-n", "3", "-o", str(out))
    assert res.exit_code == 0, res.output
    task = get_task("gym:chain_sum")
    assert all(task.score(e, e.answer) == 1.0 for e in read_examples(out).examples)


@pytest.mark.parametrize("mode", ["swap", "shuffle", "perturb", "drop"])
def test_corrupt(tmp_path, mode):
    src, dst = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert _run("generate", "arith", "-n", "5", "-o", str(src)).exit_code == 0
    res = _run("corrupt", str(src), "--mode", mode, "--seed", "2", "-o", str(dst))
    assert res.exit_code == 0, res.output
    before, after = read_examples(src).examples, read_examples(dst).examples
    assert [e.answer for e in after] == [e.answer for e in before]
    assert all(e.meta["corruption"] == mode for e in after)
    assert all(a.trace != b.trace for a, b in zip(before, after, strict=True))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "nope", "-o", "x.jsonl"], "unknown"),
        (["generate", "maze", "--split", "dev", "-o", "x.jsonl"], "split"),
        (["generate", "maze", "--difficulty", "9", "-o", "x.jsonl"], "difficulty"),
        (["generate", "maze", "-o", "x.txt"], "output format"),
        (["generate", "maze", "-n", "0", "-o", "x.jsonl"], "n:"),
        (["corrupt", "missing.jsonl", "--mode", "swap", "-o", "y.jsonl"], ""),
    ],
)
def test_errors_are_clean(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    res = _run(*args)
    assert res.exit_code == 1, res.output  # a clean error exit, not a traceback
    assert "error:" in res.output and message in res.output


def test_corrupt_bad_mode(tmp_path):
    src = tmp_path / "a.jsonl"
    assert _run("generate", "arith", "-n", "2", "-o", str(src)).exit_code == 0
    res = _run("corrupt", str(src), "--mode", "scramble", "-o", str(tmp_path / "b.jsonl"))
    assert res.exit_code == 1 and "mode" in res.output
