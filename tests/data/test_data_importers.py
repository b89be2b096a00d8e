"""Each importer on records shaped like the real datasets; detection; field maps; default ids."""

import pytest

from reasonsift.data.errors import DataError
from reasonsift.data.fieldmap import parse_field_map
from reasonsift.data.io import read_examples


def test_trl_conversational_with_system_and_think(write_jsonl):
    p = write_jsonl(
        "chat.jsonl",
        [
            {
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "What is 2+3?"},
                    {"role": "assistant", "content": "<think>2+3=5</think>5"},
                ]
            },
            {
                "messages": [
                    {"role": "user", "content": "What is 1+1?"},
                    {"role": "assistant", "content": "2", "reasoning_content": "one and one"},
                ]
            },
            {"messages": [{"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "hi"}]},
        ],
    )
    r = read_examples(p)
    assert r.format == "trl"
    a, b, c = r.examples
    assert (a.id, a.question, a.trace, a.answer) == ("chat-1", "What is 2+3?", "2+3=5", "5")
    assert a.meta == {"system": "Be brief."} and a.source == "chat.jsonl:1"
    assert (b.trace, b.answer) == ("one and one", "2")
    assert (c.id, c.trace, c.answer) == ("chat-3", "", "hi")


def test_trl_prompt_completion_strings_and_message_lists(write_jsonl):
    p = write_jsonl(
        "pc.jsonl",
        [
            {"prompt": "2*4?", "completion": "<think>\n2*4=8\n</think>\n\n8"},
            {
                "prompt": [{"role": "user", "content": "3*3?"}],
                "completion": [{"role": "assistant", "content": "<think>3*3=9</think>9"}],
            },
        ],
    )
    a, b = read_examples(p).examples
    assert (a.question, a.trace, a.answer) == ("2*4?", "\n2*4=8\n", "\n\n8")
    assert (b.question, b.trace, b.answer) == ("3*3?", "3*3=9", "9")


S1K_ROW = {
    "solution": "42",
    "question": "Find x.",
    "cot_type": "math",
    "source_type": "qfq/openaimath/Algebra",
    "metadata": "{'level': 3}",
    "gemini_thinking_trajectory": "gemini thinks",
    "gemini_attempt": "gemini says 41",
    "deepseek_thinking_trajectory": "deepseek thinks",
    "deepseek_attempt": "deepseek says 42",
    "gemini_grade": "No",
    "deepseek_grade": "Yes",
}


def test_s1k_11_rule_answer_is_solution_trace_is_deepseek(write_jsonl):
    ex = read_examples(write_jsonl("s1k.jsonl", [S1K_ROW])).examples[0]
    assert (ex.id, ex.question, ex.trace, ex.answer, ex.domain) == (
        "s1k-1",
        "Find x.",
        "deepseek thinks",
        "42",
        "math",
    )
    assert ex.meta["attempt"] == "deepseek says 42" and ex.meta["trace_model"] == "deepseek"
    # Nothing dropped: every unused column is kept in meta under its own name.
    for col in (
        "gemini_thinking_trajectory",
        "gemini_attempt",
        "gemini_grade",
        "deepseek_grade",
        "source_type",
    ):
        assert ex.meta[col] == S1K_ROW[col]


def test_s1k_field_map_picks_another_trace_and_the_attempt_as_answer(write_jsonl):
    p = write_jsonl("s1k.jsonl", [S1K_ROW])
    fm = parse_field_map("trace=gemini_thinking_trajectory,answer=gemini_attempt")
    ex = read_examples(p, fmt="s1k", field_map=fm).examples[0]
    assert (ex.trace, ex.answer) == ("gemini thinks", "gemini says 41")
    assert ex.meta["solution"] == "42" and "gemini_thinking_trajectory" not in ex.meta


def test_s1k_10_trajectory_list(write_jsonl):
    row = {"question": "q", "solution": "s", "thinking_trajectories": ["t1"], "attempt": "a"}
    ex = read_examples(write_jsonl("s1.jsonl", [row])).examples[0]
    assert (ex.trace, ex.answer, ex.meta["attempt"]) == ("t1", "s", "a")


def test_limo(write_jsonl):
    row = {"question": "How many?", "solution": "Count: 1, 2, 3.", "answer": "3"}
    r = read_examples(write_jsonl("limo.jsonl", [row, row]))
    assert r.format == "limo"
    assert [(e.id, e.trace, e.answer, e.source) for e in r.examples] == [
        ("limo-1", "Count: 1, 2, 3.", "3", "limo.jsonl:1"),
        ("limo-2", "Count: 1, 2, 3.", "3", "limo.jsonl:2"),
    ]


def test_gym_items(write_jsonl):
    row = {
        "question": "Calculate 1 + 2.",
        "answer": "3",
        "metadata": {"source_dataset": "ba", "source_index": 7},
    }
    r = read_examples(write_jsonl("g.jsonl", [row]))
    ex = r.examples[0]
    assert r.format == "gym"
    assert (ex.id, ex.domain, ex.source, ex.meta) == ("g-1", "ba", "ba:7", row["metadata"])


def test_external_verl_row(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "gsm8k.parquet"
    rows = [
        {
            "data_source": "openai/gsm8k",
            "prompt": [{"role": "user", "content": "Natalia sold 48 clips..."}],
            "ability": "math",
            "reward_model": {"style": "rule", "ground_truth": "72"},
            "extra_info": {"split": "train", "index": 5, "answer": "48+24=72 #### 72"},
        }
    ]
    pq.write_table(pa.Table.from_pylist(rows), p)
    r = read_examples(str(p))
    ex = r.examples[0]
    assert r.format == "verl"
    assert (ex.id, ex.question, ex.answer, ex.domain, ex.source) == (
        "gsm8k-1",
        "Natalia sold 48 clips...",
        "72",
        "math",
        "openai/gsm8k:5",
    )
    assert ex.meta["extra_info"] == {"split": "train", "index": 5, "answer": "48+24=72 #### 72"}
    assert ex.meta["data_source"] == "openai/gsm8k" and ex.meta["ability"] == "math"


def test_field_map_renames_before_detection(write_jsonl):
    p = write_jsonl("m.jsonl", [{"uid": "u1", "problem": "1+1", "solution": "2", "why": "add"}])
    r = read_examples(p, field_map=parse_field_map("id=uid,question=problem,answer=solution,trace=why"))
    assert r.format == "native"
    ex = r.examples[0]
    assert (ex.id, ex.question, ex.answer, ex.trace, ex.meta) == ("u1", "1+1", "2", "add", {})


def test_field_map_naming_a_missing_column_is_a_file_problem(write_jsonl):
    p = write_jsonl("m.jsonl", [{"id": "a", "question": "q", "answer": "a"}])
    with pytest.raises(DataError, match=r"field map question=problem: no such column"):
        read_examples(p, field_map={"question": "problem"})


@pytest.mark.parametrize(
    "text, err", [("question", "expected target=column"), ("a=b,a=c", "mapped twice"), ("=x", "expected")]
)
def test_parse_field_map_errors(text, err):
    with pytest.raises(ValueError, match=err):
        parse_field_map(text)


def test_native_extra_columns_go_to_meta(write_jsonl):
    p = write_jsonl("n.jsonl", [{"id": "a", "question": "q", "answer": "x", "meta": {"k": 1}, "score": 0.5}])
    assert read_examples(p).examples[0].meta == {"k": 1, "score": 0.5}


def test_default_ids_are_deterministic(write_jsonl):
    rows = [{"question": f"q{i}", "solution": "s", "answer": "a"} for i in range(3)]
    p = write_jsonl("d.jsonl", rows)
    assert [e.id for e in read_examples(p).examples] == [e.id for e in read_examples(p).examples]
    assert [e.id for e in read_examples(p).examples] == ["d-1", "d-2", "d-3"]


def test_json_array_and_blank_lines(tmp_path, write_jsonl):
    import json

    arr = tmp_path / "a.json"
    arr.write_text(json.dumps([{"id": "a", "question": "q", "answer": "x"}]), encoding="utf-8")
    assert read_examples(str(arr)).container == "json"
    p = write_jsonl("b.jsonl", ["", '{"id": "a", "question": "q", "answer": "x"}', "  ", ""])
    r = read_examples(p)
    assert r.n_read == 1 and r.examples[0].id == "a"


def test_hf_save_to_disk_dataset_and_dict(tmp_path):
    import datasets

    rows = [
        {"question": "q1", "solution": "s1", "answer": "a1"},
        {"question": "q2", "solution": "s2", "answer": "a2"},
    ]
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "limo_ds"))
    r = read_examples(str(tmp_path / "limo_ds"))
    assert (r.container, r.format, [e.answer for e in r.examples]) == ("hf", "limo", ["a1", "a2"])
    assert r.examples[0].id == "limo_ds-1"
    dd = datasets.DatasetDict(
        {"train": datasets.Dataset.from_list(rows[:1]), "test": datasets.Dataset.from_list(rows[1:])}
    )
    dd.save_to_disk(str(tmp_path / "dd"))
    assert [e.answer for e in read_examples(str(tmp_path / "dd"), split="test").examples] == ["a2"]
    with pytest.raises(DataError, match=r"no split 'validation'; available: train, test"):
        read_examples(str(tmp_path / "dd"), split="validation")


def test_hub_id_offline_fails_fast_naming_the_id(monkeypatch):
    import time

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.monotonic()
    with pytest.raises(DataError) as err:
        read_examples("simplescaling/s1K-1.1")
    assert time.monotonic() - t0 < 2.0
    msg = str(err.value)
    assert msg.startswith("simplescaling/s1K-1.1: -: not a local path, and HF_HUB_OFFLINE is set")
    assert "save_to_disk(DIR)" in msg


def test_hub_id_unreachable_fails_with_message(monkeypatch):
    from reasonsift.data import hub

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "hub_reachable", lambda endpoint: False)
    with pytest.raises(DataError, match=r"cannot be reached to download the hub dataset 'GAIR/LIMO'"):
        read_examples("GAIR/LIMO")


def test_hub_reachable_probe(monkeypatch):
    import socket

    from reasonsift.data.hub import hub_reachable

    for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(v, raising=False)
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        port = srv.getsockname()[1]
        assert hub_reachable(f"http://127.0.0.1:{port}", timeout=1.0) is True
    assert hub_reachable(f"http://127.0.0.1:{port}", timeout=1.0) is False  # closed now


def test_json_named_files_holding_jsonl_or_an_object(tmp_path):
    rec = '{"id": "a", "question": "q", "answer": "x"}'
    p = tmp_path / "lines.json"
    p.write_text(rec + "\n" + rec.replace('"a"', '"b"') + "\n")
    assert [e.id for e in read_examples(str(p)).examples] == ["a", "b"]
    p.write_text('{\n "data": [1]\n}\n')
    with pytest.raises(
        DataError, match=r"lines.json: -: a .json file must hold an array of objects, got object"
    ):
        read_examples(str(p))
