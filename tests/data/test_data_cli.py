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


# ---- hostile input (issue 7) ---------------------------------------------------------------------------
ROWS40 = [{"id": f"x{i}", "question": "q" * 200, "answer": "a", "trace": "t" * 100} for i in range(40)]


def _jsonl_bytes(rows) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


@pytest.mark.parametrize("out_name", ["o.jsonl", "o.parquet"])
def test_convert_reads_stdin_as_dash_whole(tmp_path, out_name):
    """More than the 4 KiB format sniff: every record arrives (24 of 40 did when the input was read twice)."""
    out = tmp_path / out_name
    res = runner.invoke(app, ["data", "convert", "-", "-o", str(out)], input=_jsonl_bytes(ROWS40))
    assert res.exit_code == 0, res.output
    assert "read 40 = written 40 + rejected 0" in res.output
    assert [ex.id for ex in read_examples(str(out)).examples] == [r["id"] for r in ROWS40]


def test_parquet_from_stdin_is_buffered(tmp_path):
    from reasonsift.data.io import write_examples

    src = tmp_path / "in.parquet"
    write_examples(read_examples(_write(tmp_path / "in.jsonl", _jsonl_bytes(ROWS40))).examples, src)
    res = runner.invoke(app, ["data", "validate", "-"], input=src.read_bytes())
    assert res.exit_code == 0, res.output
    assert "native (parquet), 40 records, 40 valid, 0 rejected: ok" in res.output


def test_stats_reads_stdin():
    res = runner.invoke(app, ["data", "stats", "-"], input=_jsonl_bytes(ROWS40), env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "40 examples" in res.output


def _write(path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def _cli(*args, **kw):
    """The real CLI in a subprocess (a real pipe or FIFO); a hang fails the test by timeout."""
    import subprocess
    import sys
    from pathlib import Path

    import reasonsift

    env = {"PYTHONPATH": str(Path(reasonsift.__file__).parents[1]), "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    code = "from reasonsift.cli import app; app()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, timeout=60, env=env, **kw)


def test_convert_dev_stdin_from_a_real_pipe_loses_nothing(tmp_path):
    out = tmp_path / "o.jsonl"
    p = _cli("data", "convert", "/dev/stdin", "-o", str(out), input=_jsonl_bytes(ROWS40))
    assert p.returncode == 0, p.stderr.decode()
    assert "read 40 = written 40 + rejected 0" in p.stdout.decode()
    assert len(out.read_text().splitlines()) == 40


def test_validate_reads_a_fifo_once(tmp_path):
    import os
    import threading

    fifo = tmp_path / "in.jsonl"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "wb") as fh:
            fh.write(_jsonl_bytes(ROWS40))

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    p = _cli("data", "validate", str(fifo))
    t.join(5)
    assert p.returncode == 0, p.stderr.decode()
    assert "40 records, 40 valid, 0 rejected: ok" in p.stdout.decode()


@pytest.mark.parametrize(
    "args, message",
    [
        (["-o", "{inp}"], "out: '{inp}' is the input file; writing it would destroy the input"),
        (["-o", "{link}"], "out: '{link}' is the input file; writing it would destroy the input"),
        (["-o", "{hard}"], "out: '{hard}' is the input file; writing it would destroy the input"),
        (
            ["-o", "{d}/o.jsonl", "--on-error", "skip", "--rejects", "{inp}"],
            "rejects: '{inp}' is the input file; writing it would destroy the input",
        ),
        (
            ["-o", "{d}/o.jsonl", "--on-error", "skip", "--rejects", "{d}/o.jsonl"],
            "rejects: '{d}/o.jsonl' is also the output",
        ),
        (["-o", "{d}"], "out: '{d}' exists and is not a regular file"),
    ],
)
def test_convert_refuses_paths_that_destroy_data(write_jsonl, tmp_path, args, message):
    import os

    inp = write_jsonl("in.jsonl", LIMO)
    before = (tmp_path / "in.jsonl").read_bytes()
    (tmp_path / "link.jsonl").symlink_to(inp)
    os.link(inp, tmp_path / "hard.jsonl")
    sub = {"inp": inp, "link": str(tmp_path / "link.jsonl"), "hard": str(tmp_path / "hard.jsonl")}
    sub["d"] = str(tmp_path)
    if "{d}" in args:  # a directory output: give the input file a .jsonl name it can infer from
        (tmp_path / "dir.jsonl").mkdir()
        sub["d"] = str(tmp_path / "dir.jsonl")
    res = runner.invoke(app, ["data", "convert", inp, *(a.format(**sub) for a in args)])
    assert res.exit_code == 1
    assert message.format(**sub) in " ".join(res.output.split()), res.output
    assert (tmp_path / "in.jsonl").read_bytes() == before
    assert not (tmp_path / "o.jsonl").exists()


def test_default_rejects_path_equal_to_input_is_refused(write_jsonl, tmp_path):
    inp = write_jsonl("o.rejects.jsonl", LIMO)
    res = runner.invoke(app, ["data", "convert", inp, "-o", str(tmp_path / "o.jsonl"), "--on-error", "skip"])
    assert res.exit_code == 1 and "rejects:" in res.output and "is the input file" in res.output


def test_all_rejected_exits_1_writes_no_output_but_the_rejects(write_jsonl, tmp_path):
    inp = write_jsonl("bad.jsonl", [LIMO[2], LIMO[2] | {"question": "x", "answer": ""}])
    out = tmp_path / "o.jsonl"
    res = runner.invoke(app, ["data", "convert", inp, "-o", str(out), "--on-error", "skip"])
    assert res.exit_code == 1
    assert not out.exists()
    assert len((tmp_path / "o.rejects.jsonl").read_text().splitlines()) == 2
    text = " ".join(res.output.split())
    assert f"{inp}: -: all 2 records were rejected; nothing written to {out}" in text
    assert "read 2 = valid 0 + rejected 2" in text


def test_fail_mode_prints_the_balance(limo, tmp_path):
    res = runner.invoke(app, ["data", "convert", limo, "-o", str(tmp_path / "o.jsonl")])
    assert res.exit_code == 1 and "read 3 = valid 2 + rejected 1" in res.output


def test_map_over_an_existing_column_is_refused(write_jsonl, tmp_path):
    inp = write_jsonl("m.jsonl", [{"id": "a", "question": "1+1", "problem": "2+2", "answer": "4"}])
    res = runner.invoke(
        app, ["data", "convert", inp, "-o", str(tmp_path / "o.jsonl"), "--map", "question=problem"]
    )
    assert res.exit_code == 1 and "already has a column 'question'" in res.output
    res = runner.invoke(
        app,
        ["data", "convert", inp, "-o", str(tmp_path / "o.jsonl"), "--map", "question=problem,q0=question"],
    )
    assert res.exit_code == 0, res.output
    ex = read_examples(str(tmp_path / "o.jsonl")).examples[0]
    assert (ex.question, ex.meta) == ("2+2", {"q0": "1+1"})


BAD_RECORDS = {
    "surrogate": '{"id": "b", "question": "caf\\ud800", "answer": "4"}',
    "huge_int": '{"id": "b", "question": "q", "answer": ' + "7" * 5000 + "}",
    "deep": '{"id": "b", "question": "q", "answer": "a", "meta": ' + "[" * 5000 + "]" * 5000 + "}",
    "think": '{"id": "b", "question": "q", "answer": "<think>x</think>a"}',
}


@pytest.mark.parametrize("kind", sorted(BAD_RECORDS))
def test_every_verb_gives_the_same_answer_for_a_bad_record(write_jsonl, tmp_path, kind):
    good = {"id": "a", "question": "1+1", "answer": "2"}
    inp = write_jsonl(f"{kind}.jsonl", [good, BAD_RECORDS[kind]])
    with pytest.raises(ValueError) as err:  # what `reasonsift profile` reads with
        read_examples(inp)
    line = str(err.value).splitlines()[0]
    assert line.startswith(f"{inp}:2: ")
    out = tmp_path / "o.jsonl"
    for args, code in (
        (["validate", inp], 1),
        (["convert", inp, "-o", str(out)], 1),
        (["stats", inp], 0),
        (["convert", inp, "-o", str(out), "--on-error", "skip"], 0),
    ):
        res = runner.invoke(app, ["data", *args], env={"COLUMNS": "300"})
        assert res.exit_code == code, (args, res.output)
        assert "Traceback" not in res.output
        if "stats" not in args and "skip" not in args:
            assert line in res.output.splitlines(), (args, res.output)
    assert len(read_examples(str(out)).examples) == 1  # skip kept the good record
    rej = [json.loads(x) for x in (tmp_path / "o.rejects.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rej] == [2] and rej[0]["reason"] == line


def test_stats_with_every_record_rejected_exits_1(write_jsonl):
    inp = write_jsonl("bad.jsonl", [LIMO[2]])
    res = runner.invoke(app, ["data", "stats", inp])
    assert res.exit_code == 1
    assert f"{inp}:1: question: empty question" in res.output
    assert "all 1 records were rejected; no statistics" in res.output


@pytest.mark.skipif(not __import__("os").path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_device_is_refused_not_read_forever():
    res = runner.invoke(app, ["data", "validate", "/dev/zero"])
    assert res.exit_code == 1
    assert "/dev/zero: -: not a file, pipe or FIFO (a device or socket)" in res.output


def test_stdin_on_a_terminal_is_refused_not_waited_on(monkeypatch):
    import io
    import sys

    from reasonsift.data.errors import DataError

    class Tty(io.TextIOWrapper):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", Tty(io.BytesIO(b"")))
    with pytest.raises(DataError, match="standard input is a terminal"):
        read_examples("-")


def test_corrupt_refuses_to_write_over_its_input(write_jsonl, tmp_path):
    inp = write_jsonl("in.jsonl", LIMO[:2])
    before = (tmp_path / "in.jsonl").read_bytes()
    res = runner.invoke(app, ["data", "corrupt", inp, "--mode", "swap", "-o", inp])
    assert res.exit_code == 1 and "is the input file" in res.output
    assert (tmp_path / "in.jsonl").read_bytes() == before


def test_a_plain_directory_is_a_clear_error(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.jsonl").write_text('{"id": "a", "question": "q", "answer": "a"}\n')
    res = runner.invoke(app, ["data", "validate", str(tmp_path / "d")])
    assert res.exit_code == 1
    assert "a directory, but not a Hugging Face save_to_disk directory" in " ".join(res.output.split())


def test_readers_and_hub_do_not_import_each_other():
    """The shared raw types live in data/raw.py; neither reader module imports the other's types."""
    import ast
    from pathlib import Path

    import reasonsift.data

    root = Path(reasonsift.data.__file__).parent
    for name, other in (("hub.py", "reasonsift.data.readers"), ("raw.py", "reasonsift.data.hub")):
        tree = ast.parse((root / name).read_text(encoding="utf-8"))
        mods = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert other not in mods and "reasonsift.data.readers" not in mods, name
