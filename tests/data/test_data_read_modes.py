"""on_error fail/skip, the rejects file, argument checks."""

import json

import pytest

from reasonsift.data.convert import ConvertConfig, main
from reasonsift.data.errors import DataError
from reasonsift.data.io import read_examples

GOOD = {"id": "a", "question": "1+1", "answer": "2"}
ROWS = [GOOD, "{broken", {"id": "b", "question": "", "answer": "x"}, {**GOOD, "id": "c"}, GOOD]


def test_fail_lists_every_problem(write_jsonl):
    p = write_jsonl("m.jsonl", ROWS)
    with pytest.raises(DataError) as err:
        read_examples(p)
    assert [str(x) for x in err.value.problems] == [
        f"{p}:2: -: invalid JSON: Expecting property name enclosed in double quotes (column 2)",
        f"{p}:3: question: empty question",
        f"{p}:5: id: duplicate id 'a' (first at line 1)",
    ]


def test_skip_keeps_good_records_and_writes_rejects(write_jsonl, tmp_path):
    p = write_jsonl("m.jsonl", ROWS)
    rej = tmp_path / "r.jsonl"
    r = read_examples(p, on_error="skip", rejects_path=rej)
    assert [e.id for e in r.examples] == ["a", "c"]
    assert r.n_read == 5 == len(r.examples) + len(r.rejects)
    lines = [json.loads(x) for x in rej.read_text(encoding="utf-8").splitlines()]
    assert [x["line"] for x in lines] == [2, 3, 5]
    assert lines[0]["record"] == "{broken"  # the raw line, since it could not be parsed
    assert lines[1]["record"] == {"id": "b", "question": "", "answer": "x"}
    assert lines[1]["reason"] == f"{p}:3: question: empty question"
    assert r.rejects[2].problem.field == "id"


def test_convert_fail_writes_nothing(write_jsonl, tmp_path):
    p = write_jsonl("m.jsonl", ROWS)
    out = tmp_path / "o.parquet"
    with pytest.raises(DataError):
        main(ConvertConfig(p, str(out)))
    assert not out.exists() and not (tmp_path / "o.rejects.jsonl").exists()


def test_convert_skip_default_rejects_path(write_jsonl, tmp_path):
    p = write_jsonl("m.jsonl", ROWS)
    res = main(ConvertConfig(p, str(tmp_path / "o.parquet"), on_error="skip"))
    assert res.n_written == 2 and res.rejects_path == tmp_path / "o.rejects.jsonl"
    assert len(res.rejects_path.read_text().splitlines()) == 3
    assert [e.id for e in read_examples(str(tmp_path / "o.parquet")).examples] == ["a", "c"]


@pytest.mark.parametrize(
    "kw, err",
    [
        ({"on_error": "ignore"}, "on_error: expected one of fail, skip"),
        ({"fmt": "alpaca"}, "fmt: unknown format 'alpaca'"),
        ({"field_map": {"question": ""}}, "field_map: expected non-empty"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_field(write_jsonl, kw, err):
    p = write_jsonl("m.jsonl", [GOOD])
    with pytest.raises(ValueError, match=err):
        read_examples(p, **kw)


def test_convert_config_checks(tmp_path):
    with pytest.raises(ValueError, match="from: expected auto"):
        ConvertConfig("a.jsonl", "b.jsonl", from_="csv")
    with pytest.raises(ValueError, match="to: cannot infer"):
        ConvertConfig("a.jsonl", "b.txt")


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_examples(str(tmp_path / "nope.jsonl"))
