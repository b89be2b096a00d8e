import pytest

from reasonsift.data.example import Example, think_tags_balanced, validate_fields


def rec(**kw):
    d = {"id": "a", "question": "1+1", "answer": "2", "trace": "1+1=2", "format": "free_form"}
    d.update(kw)
    return d


def fields(problems):
    return [f for f, _ in problems]


def test_valid_record_has_no_problems():
    assert validate_fields(rec()) == []


@pytest.mark.parametrize(
    "kw, field, words",
    [
        ({"question": "  "}, "question", "empty question"),
        ({"answer": ""}, "answer", "empty answer"),
        ({"answer": 2}, "answer", "expected a string"),
        ({"format": "essay"}, "format", "unknown format"),
        ({"trace": "<think>a"}, "trace", "unbalanced"),
        ({"meta": [1]}, "meta", "expected an object"),
        (
            {"format": "multiple_choice", "choices": ["x", "y"], "answer": "C"},
            "answer",
            "not among the choices",
        ),
        ({"format": "multiple_choice", "choices": ["x"], "answer": "A"}, "choices", "at least 2"),
        ({"choices": "abc"}, "choices", "list of strings"),
    ],
)
def test_each_problem_names_its_field(kw, field, words):
    probs = validate_fields(rec(**kw))
    assert field in fields(probs), probs
    assert any(words in m for f, m in probs if f == field)


def test_missing_required_fields():
    d = rec()
    del d["id"], d["answer"]
    assert sorted(fields(validate_fields(d))) == ["answer", "id"]


def test_think_tags():
    assert think_tags_balanced("a<think>b</think>c<think></think>")
    assert not think_tags_balanced("</think><think>")
    assert not think_tags_balanced("<think><think></think>")


def test_multiple_choice_answer_text_and_roundtrip():
    ex = Example(
        id="m", question="q", answer="B", choices=["x", "y", "z"], format="multiple_choice", meta={"k": 1}
    )
    assert ex.answer_index() == 1 and ex.answer_text() == "y"
    assert Example.from_dict(ex.to_dict()) == ex
    assert ex.problems() == []
