"""One test per file of the malformed corpus: the exact ``path:line: field: message`` of every problem."""

from pathlib import Path

import pytest

from reasonsift.data.errors import DataError
from reasonsift.data.io import read_examples

CORPUS = Path(__file__).parent / "malformed"

# file -> (read_examples kwargs, expected problems with "{p}" standing for the path)
CASES = {
    "invalid_json.jsonl": ({}, ["{p}:2: -: invalid JSON: Expecting ',' delimiter (column 45)"]),
    "non_utf8.jsonl": ({}, ["{p}:2: -: not valid UTF-8: byte 0xe9 at column 29"]),
    "missing_question.jsonl": ({}, ["{p}:2: question: missing required field"]),
    "wrong_type.jsonl": ({}, ["{p}:2: answer: expected a string, got int"]),
    "empty_question.jsonl": ({}, ["{p}:2: question: empty question"]),
    "empty_answer.jsonl": ({}, ["{p}:2: answer: empty answer"]),
    "duplicate_ids.jsonl": ({}, ["{p}:3: id: duplicate id 'a' (first at line 1)"]),
    "mc_answer_not_in_choices.jsonl": (
        {},
        ["{p}:1: answer: answer 'D' is not among the choices (expected a letter A-C)"],
    ),
    "unknown_format.jsonl": (
        {},
        ["{p}:1: format: unknown format 'essay'; expected one of free_form, multiple_choice"],
    ),
    "unbalanced_think.jsonl": ({}, ["{p}:2: trace: unbalanced <think> tags"]),
    "trl_unbalanced_think.jsonl": ({}, ["{p}:1: messages: unbalanced <think> tags in the assistant turn"]),
    "trl_multi_turn.jsonl": (
        {},
        [
            "{p}:1: messages: expected optional system turns then one user turn, "
            "got roles ['user', 'assistant', 'user']"
        ],
    ),
    "empty.jsonl": ({}, ["{p}: -: empty file (no records)"]),
    "blank_lines.jsonl": ({}, ["{p}: -: empty file (no records)"]),
    "parquet_named_jsonl.jsonl": (
        {},
        ["{p}: -: file is Parquet (starts with PAR1), not JSONL; rename it to .parquet"],
    ),
    "csv_named_jsonl.jsonl": (
        {},
        [
            "{p}: -: not JSONL: line 1 looks like a CSV header ('id,question,answer'); "
            "convert it to JSONL or Parquet"
        ],
    ),
    "table.csv": ({}, ["{p}: -: CSV/TSV is not supported; convert it to JSONL or Parquet first"]),
    "jsonl_named_parquet.parquet": (
        {},
        ["{p}: -: not a Parquet file (no PAR1 magic bytes) (it looks like JSON; rename it to .jsonl)"],
    ),
    "verl_without_prompt.jsonl": (
        {"fmt": "verl"},
        ["{p}: -: format 'verl' needs columns 'prompt', 'reward_model'; columns: ['question', 'answer']"],
    ),
    "not_an_object.jsonl": ({}, ["{p}:2: -: expected an object, got array"]),
    "array_bad_elements.json": (
        {},
        ["{p}:2: -: expected an object, got string", "{p}:3: answer: missing required field"],
    ),
    "truncated_array.json": ({}, ["{p}: -: invalid JSON: Expecting ',' delimiter (text line 4, column 1)"]),
    "array_non_utf8.json": ({}, ["{p}: -: not valid UTF-8: byte 0xe9 at byte 31 (text line 2)"]),
    "undetectable.jsonl": (
        {},
        [
            "{p}: -: cannot detect the format from columns ['foo', 'bar']; pass a format "
            "(verl, trl, native, s1k, limo, gym) or a field map"
        ],
    ),
    "meta_not_object.jsonl": ({}, ["{p}:1: meta: expected an object, got list"]),
    "choices_not_list.jsonl": (
        {},
        [
            "{p}:1: choices: expected a list of strings, got str",
        ],
    ),
    "verl_bad_rows.parquet": (
        {},
        [
            "{p}:2: reward_model.ground_truth: missing required field",
            "{p}:3: prompt: expected optional system turns then one user turn, got roles ['assistant']",
        ],
    ),
    # Hostile input (issue 7): each is one record's problem with path:line: field, never a traceback.
    "deep_nesting.jsonl": ({}, ["{p}:2: -: invalid JSON: nested deeper than 100 levels"]),
    "nested_too_deep.jsonl": ({}, ["{p}:2: extra: nested deeper than 100 levels"]),
    "huge_int.jsonl": (
        {},
        [
            "{p}:2: answer: integer of 5000 digits is longer than 4300 digits (Python's int/str limit); "
            "store it as a string"
        ],
    ),
    "huge_int_array.json": (
        {},
        [
            "{p}:2: n: integer of 4400 digits is longer than 4300 digits (Python's int/str limit); "
            "store it as a string"
        ],
    ),
    "nan_value.jsonl": ({}, ["{p}:2: score: -Infinity is not valid JSON; use null, a number or a string"]),
    "lone_surrogate.jsonl": (
        {},
        [
            "{p}:2: question: lone surrogate \\ud800 at character 4 is not valid Unicode and cannot be "
            "written as UTF-8; fix or remove it"
        ],
    ),
    "lone_surrogate_column.jsonl": (
        {},
        [
            "{p}:2: meta.note: lone surrogate \\udc80 at character 2 is not valid Unicode and cannot be "
            "written as UTF-8; fix or remove it"
        ],
    ),
    "think_in_answer.jsonl": (
        {},
        ["{p}:2: answer: contains a <think> tag; only the trace may hold reasoning (move it to trace)"],
    ),
    "think_in_question.jsonl": (
        {},
        ["{p}:2: question: contains a <think> tag; only the trace may hold reasoning (move it to trace)"],
    ),
    "s1k_empty_trajectory.jsonl": (
        {},
        [
            "{p}:2: deepseek_thinking_trajectory: trace is null; drop the record or fill in its trace",
            "{p}:3: deepseek_thinking_trajectory: empty trace; drop the record or fill in its trace",
        ],
    ),
    "limo_null_solution.jsonl": (
        {},
        ["{p}:2: solution: trace is null; drop the record or fill in its trace"],
    ),
    "map_drops_column.jsonl": (
        {"field_map": {"question": "problem"}},
        [
            "{p}: -: field map question=problem: the file already has a column 'question', which the map "
            "would drop; map it away too (e.g. question=problem,question_original=question) or drop that "
            "column first"
        ],
    ),
    "parquet_bad_rows.parquet": (
        {},
        [
            "{p}:1: id: expected a string, got int",
            "{p}:2: meta: expected an object or a JSON string of one: "
            "Expecting property name enclosed in double quotes",
        ],
    ),
}


def test_every_corpus_file_has_a_case():
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_file_reports_exact_problems(name):
    kwargs, expected = CASES[name]
    path = str(CORPUS / name)
    with pytest.raises(DataError) as err:
        read_examples(path, **kwargs)
    assert [str(p) for p in err.value.problems] == [e.format(p=path) for e in expected]
    # The exception text lists them too (what the CLI and a traceback show).
    assert str(err.value).splitlines()[: len(expected)] == [e.format(p=path) for e in expected]


@pytest.mark.parametrize("name", sorted(n for n, (_, exp) in CASES.items() if ":" in exp[0].split(": ")[0]))
def test_record_problems_are_skippable_and_nothing_is_lost(name, tmp_path):
    """Per-record problems: skip keeps the good records; n_read = examples + rejects."""
    kwargs, expected = CASES[name]
    rejects = tmp_path / "rejects.jsonl"
    res = read_examples(str(CORPUS / name), on_error="skip", rejects_path=rejects, **kwargs)
    assert res.n_read == len(res.examples) + len(res.rejects)
    assert len(res.rejects) >= 1
    assert [str(p) for p in res.problems] == [e.format(p=str(CORPUS / name)) for e in expected]
    assert len(rejects.read_text(encoding="utf-8").splitlines()) == len(res.rejects)
