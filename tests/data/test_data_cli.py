"""`reasonsift data convert|validate|stats` through typer's CliRunner."""

import json

import pytest
from typer.testing import CliRunner

from reasonsift.cli import app
from reasonsift.data.io import read_examples

runner = CliRunner()

LIMO = [
    {"question": "How many?", "solution": "1, 2, 3", "answer": "3"},
    {"question": "Sum 2 and 2", "solution": "2+2=4", "answer": "4"},
    {"question": "", "solution": "none", "answer": "0"},
]


@pytest.fixture
def limo(write_jsonl):
    return write_jsonl("limo.jsonl", LIMO)


def test_convert_fail_lists_problems_and_writes_nothing(limo, tmp_path):
    out = tmp_path / "o.parquet"
    res = runner.invoke(app, ["data", "convert", limo, "-o", str(out)])
    assert res.exit_code == 1
    assert f"{limo}:3: question: empty question" in res.output
    assert not out.exists()


def test_convert_skip_prints_the_balance_and_writes_rejects(limo, tmp_path):
    out = tmp_path / "o.parquet"
    res = runner.invoke(app, ["data", "convert", limo, "-o", str(out), "--on-error", "skip", "--to", "verl"])
    assert res.exit_code == 0, res.output
    assert "read 3 = written 2 + rejected 1" in res.output
    assert read_examples(str(out)).format == "verl"
    rej = [json.loads(x) for x in (tmp_path / "o.rejects.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rej] == [3]


def test_convert_with_map_and_from(write_jsonl, tmp_path):
    p = write_jsonl("x.jsonl", [{"problem": "1+1", "sol": "2", "id": "k"}])
    out = tmp_path / "o.jsonl"
    res = runner.invoke(
        app,
        ["data", "convert", p, "-o", str(out), "--from", "native", "--map", "question=problem,answer=sol"],
    )
    assert res.exit_code == 0, res.output
    ex = read_examples(str(out)).examples[0]
    assert (ex.id, ex.question, ex.answer) == ("k", "1+1", "2")


def test_convert_bad_option_is_a_clean_error(limo, tmp_path):
    res = runner.invoke(app, ["data", "convert", limo, "-o", str(tmp_path / "o.jsonl"), "--from", "csv"])
    assert res.exit_code == 1 and "from: expected auto" in res.output and "Traceback" not in res.output


def test_validate_lists_all_problems_and_exits_1(write_jsonl):
    p = write_jsonl(
        "v.jsonl",
        [{"id": "a", "question": "", "answer": ""}, "nope", {"id": "b", "question": "q", "answer": "a"}],
    )
    res = runner.invoke(app, ["data", "validate", p])
    assert res.exit_code == 1
    for line in (
        f"{p}:1: question: empty question",
        f"{p}:1: answer: empty answer",
        f"{p}:2: -: invalid JSON: Expecting value (column 1)",
    ):
        assert line in res.output
    assert "3 records, 1 valid, 2 rejected" in res.output


def test_validate_ok_exits_0(limo, write_jsonl):
    p = write_jsonl("ok.jsonl", LIMO[:2])
    res = runner.invoke(app, ["data", "validate", p])
    assert res.exit_code == 0 and "2 valid, 0 rejected: ok" in res.output


def test_validate_file_problem(tmp_path):
    p = tmp_path / "e.jsonl"
    p.write_text("")
    res = runner.invoke(app, ["data", "validate", str(p)])
    assert res.exit_code == 1 and f"{p}: -: empty file (no records)" in res.output


def test_stats_chars_and_tokens(write_jsonl):
    rows = [
        {"id": "a", "question": "q", "answer": "1", "trace": "ab", "domain": "arith"},
        {"id": "b", "question": "q", "answer": "1", "trace": "abcd", "domain": "arith"},
        {
            "id": "c",
            "question": "q",
            "answer": "B",
            "trace": "abcdef",
            "domain": "logic",
            "choices": ["x", "y"],
            "format": "multiple_choice",
        },
    ]
    p = write_jsonl("s.jsonl", rows)
    res = runner.invoke(app, ["data", "stats", p], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "trace length (chars)" in res.output
    # min 2, p50 4, p90 5.6, max 6, mean 4.0
    assert "│   2 │   4 │ 5.6 │   6 │  4.0 │" in res.output
    assert "arith" in res.output and "multiple_choice" in res.output
    res = runner.invoke(app, ["data", "stats", p, "--tokenizer", "builtin"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "trace length (tokens)" in res.output and "│   2 │   4 │ 5.6 │   6 │  4.0 │" in res.output
