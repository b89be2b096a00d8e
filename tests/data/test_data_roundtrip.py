"""import -> export -> import loses nothing, for every writer, free-form and multiple-choice examples."""

import json

import pyarrow.parquet as pq
import pytest

from reasonsift.data.example import Example
from reasonsift.data.io import read_examples, write_examples
from reasonsift.data.render import to_messages

EXAMPLES = [
    Example(
        id="ff-1",
        question="Combien font 7×6 ? 🙂",
        answer="42",
        trace="7×6 = 42\nvérifié ✓",
        domain="arith",
        source="arith:0",
        meta={"difficulty": 2, "tags": ["x", "ÿ"], "nested": {"a": None}},
    ),
    Example(
        id="mc-1",
        question="Which is prime?",
        answer="B",
        trace="",  # empty trace: exported without <think>
        choices=["4", "5", "6"],
        format="multiple_choice",
        domain="logic",
        source="",
        meta={"other_key": 1.5},  # heterogeneous meta across rows
    ),
    Example(id="ff-2", question="日本語の質問", answer="答え", trace="<think>nested</think> step", meta={}),
]

TARGETS = [
    ("jsonl", "out.jsonl"),
    ("parquet", "out.parquet"),
    ("trl", "out.jsonl"),
    ("trl", "out.parquet"),
    ("verl", "out.parquet"),
]


@pytest.mark.parametrize("to, name", TARGETS)
def test_round_trip_loses_nothing(tmp_path, to, name):
    path = tmp_path / name
    assert write_examples(EXAMPLES, path, to=to) == len(EXAMPLES)
    r = read_examples(str(path))
    assert r.format == {"jsonl": "native", "parquet": "native"}.get(to, to)
    assert r.examples == EXAMPLES
    assert r.n_read == 3 and r.rejects == []


def test_round_trip_twice_is_byte_stable(tmp_path):
    write_examples(EXAMPLES, tmp_path / "a.parquet", to="verl")
    write_examples(read_examples(str(tmp_path / "a.parquet")).examples, tmp_path / "b.parquet", to="verl")
    assert pq.read_table(tmp_path / "a.parquet").equals(pq.read_table(tmp_path / "b.parquet"))


def test_parquet_meta_is_a_json_string_column(tmp_path):
    write_examples(EXAMPLES, tmp_path / "x.parquet")
    t = pq.read_table(tmp_path / "x.parquet")
    assert t.column_names == [
        "id",
        "question",
        "trace",
        "answer",
        "choices",
        "format",
        "domain",
        "source",
        "meta",
    ]
    assert str(t.schema.field("meta").type) == "string"
    assert json.loads(t.column("meta")[1].as_py()) == {"other_key": 1.5}


def test_trl_export_uses_render_and_think(tmp_path):
    write_examples(EXAMPLES, tmp_path / "t.jsonl", to="trl")
    rows = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows[0]["messages"] == to_messages(EXAMPLES[0])
    assert rows[0]["messages"][1]["content"] == "<think>7×6 = 42\nvérifié ✓</think>42"
    assert rows[1]["messages"][0]["content"] == "Which is prime?\nA) 4\nB) 5\nC) 6"
    assert rows[1]["messages"][1]["content"] == "B"
    assert rows[1]["choices"] == ["4", "5", "6"] and rows[1]["id"] == "mc-1"


def test_verl_export_schema(tmp_path):
    write_examples(EXAMPLES, tmp_path / "v.parquet", to="verl")
    row = pq.read_table(tmp_path / "v.parquet").to_pylist()[1]
    assert row["prompt"] == [{"role": "user", "content": "Which is prime?\nA) 4\nB) 5\nC) 6"}]
    assert row["reward_model"] == {"style": "rule", "ground_truth": "B"}
    assert (row["data_source"], row["ability"]) == ("logic", "logic")
    info = row["extra_info"]
    assert (info["index"], info["split"], info["id"], info["choices"]) == (
        1,
        "train",
        "mc-1",
        ["4", "5", "6"],
    )
    assert json.loads(info["meta"]) == {"other_key": 1.5}


@pytest.mark.parametrize(
    "name, to, err",
    [
        ("x.csv", None, "cannot infer"),
        ("x.jsonl", "verl", "verl data is Parquet"),
        ("x.jsonl", "xml", "expected one of"),
    ],
)
def test_write_rejects_bad_targets(tmp_path, name, to, err):
    with pytest.raises(ValueError, match=f"to: .*{err}"):
        write_examples(EXAMPLES, tmp_path / name, to=to)
    assert not (tmp_path / name).exists()


def test_write_is_atomic_on_failure(tmp_path):
    out = tmp_path / "keep.parquet"
    write_examples(EXAMPLES, out)
    before = out.read_bytes()
    bad = [Example(id="a", question="q", answer="x", choices=5)]  # not a list: Parquet refuses it
    with pytest.raises(Exception, match="list"):
        write_examples(bad, out)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.parquet"]


# Records a hostile user might import. Whatever import accepts, every exporter must give back unchanged:
# a <think> in an answer used to be accepted, and the TRL export then failed the tool's own validation.
HOSTILE = [
    {"id": "h1", "question": "2+2", "answer": "<think>2+2=4</think>4"},
    {"id": "h2", "question": "2+2", "answer": "4</think>", "trace": "2+2=4"},
    {"id": "h3", "question": "2+2 <think>", "answer": "4", "trace": "2+2=4"},
    {"id": "h4", "question": "2+2", "answer": "4", "trace": "<think>inner</think>"},
    {"id": "h5", "question": "2+2", "answer": " 4 ", "trace": "   "},
    {
        "id": "h6",
        "question": "Q\nA) 4\nB) 5",
        "answer": "A",
        "choices": ["4", "5"],
        "format": "multiple_choice",
    },
    {"id": "h7", "question": "caf\ud800", "answer": "4"},
    {"id": "h8", "question": "2+2", "answer": "4", "meta": {"k\udc80": 1}},
]


@pytest.mark.parametrize("to, name", TARGETS)
def test_what_import_accepts_every_exporter_round_trips(tmp_path, write_jsonl, to, name):
    src = write_jsonl("hostile.jsonl", [json.dumps(r) for r in HOSTILE])
    accepted = read_examples(src, on_error="skip")
    assert accepted.n_read == len(HOSTILE) == len(accepted.examples) + len(accepted.rejects)
    assert [r.line for r in accepted.rejects] == [1, 2, 3, 7, 8]
    path = tmp_path / name
    write_examples(accepted.examples, path, to=to)
    again = read_examples(str(path))  # on_error="fail": the export passes the tool's own validation
    assert again.examples == accepted.examples


@pytest.mark.parametrize("row", [HOSTILE[i] for i in (0, 1, 2, 6, 7)], ids=lambda r: r["id"])
def test_example_problems_agree_with_import(row):
    """The in-process check (Example.problems) refuses what import refuses, so no exporter sees it."""
    assert Example.from_dict({**row, "trace": row.get("trace", "")}).problems()
