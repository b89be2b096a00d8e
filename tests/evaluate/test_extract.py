import doctest
import time

import pytest

from reasonsift.evaluate import extract
from reasonsift.evaluate.extract import (
    extract_answer,
    from_answer_phrase,
    from_answer_tags,
    from_boxed,
    from_hashes,
    from_last_number,
    from_think_close,
)


def test_doctests():
    assert doctest.testmod(extract).failed == 0


@pytest.mark.parametrize(
    "text, want",
    [
        (r"\boxed{4}", "4"),
        (r"first \boxed{1} then \boxed{2}", "2"),  # the last one
        (r"\boxed{\frac{1}{2}}", r"\frac{1}{2}"),  # nested braces kept
        (r"\boxed{ {a}{b{c}} }", "{a}{b{c}}"),
        (r"\boxed{1} and an unclosed \boxed{2", "1"),  # an unclosed last box is skipped
        (r"\fbox{7}", "7"),
        (r"\boxed {x+1}", "x+1"),
        ("no box", None),
        (r"\boxed{", None),
        (r"} \boxed{3} }}", "3"),  # stray closing braces do not confuse the matcher
    ],
)
def test_boxed(text, want):
    assert from_boxed(text) == want


def test_answer_tags():
    assert from_answer_tags("<answer>1</answer><ANSWER> 2 </ANSWER>") == "2"
    assert from_answer_tags("<answer>1</answer> <answer>2") == "2"  # unclosed last tag: the rest
    assert from_answer_tags("nothing") is None
    assert from_answer_tags("<answer></answer>") is None


def test_hashes_and_phrases():
    assert from_hashes("48/2 = 24\n#### 24\n") == "24"
    assert from_hashes("#### 1\n#### 2") == "2"
    assert from_hashes("####") is None
    assert from_answer_phrase("Answer: 5.") == "5"
    assert from_answer_phrase("Final answer: $x=3$") == "x=3"
    assert from_answer_phrase("so the answer is 12\nand more") == "12"
    assert from_answer_phrase("The final answer is: B") == "B"
    assert from_answer_phrase("no phrase") is None


def test_think_close_and_last_number():
    assert from_think_close("<think>a</think>  b ") == "b"
    assert from_think_close("<think>a</think>") is None
    assert from_think_close("plain") is None
    assert from_last_number("1 then -2,500.25 then 3/4") == "3/4"
    assert from_last_number("-2,500.25") == "-2500.25"
    assert from_last_number("none") is None


@pytest.mark.parametrize(
    "completion, want",
    [
        ("<think>2+3=5</think>5", "5"),  # after </think>
        ("<think>x</think>The answer is 7.", "7"),  # a marker after </think> beats the whole text
        (r"<think>\boxed{1}</think>2", "2"),  # a box inside the thinking is not the answer
        (r"<think>a</think><answer>3</answer> \boxed{4}", "3"),  # tags outrank boxes
        (r"<answer>so \boxed{5}</answer>", "5"),  # a box inside the tags: its content
        (r"\boxed{4}\n#### 5", "4"),  # boxes outrank ####
        ("#### 5\nAnswer: 6", "5"),  # #### outranks Answer:
        ("Answer: 6 but 7 apples", "6 but 7 apples"),  # the phrase outranks the last number
        ("we get 3 then 4 in the end", "4"),  # no tags, no marker: the last number
        ("red", "red"),  # a short line is its own answer
        ("<think>unclosed \\boxed{3}", None),  # thinking never closed: no answer
        ("<think>a</think></think>9", "9"),  # the last </think>
        ("", None),
        ("   ", None),
        ("<think>x</think>", None),
        ("a long line without numbers " * 10, None),
    ],
)
def test_extract_answer_precedence(completion, want):
    assert extract_answer(completion) == want


@pytest.mark.parametrize(
    "text",
    [
        "{" * 1_000_000,
        r"\boxed{" * 140_000,
        "<answer>" * 125_000,
        "answer:" * 140_000,
        "1," * 500_000,
        "####" * 250_000,
        "<think>" + "a" * 1_000_000 + "</think>" + "b" * 1_000_000,
    ],
)
def test_million_char_inputs_are_linear(text):
    # A quadratic scan of these takes minutes; linear ones a fraction of a second.
    t0 = time.perf_counter()
    extract_answer(text)
    for fn in (from_answer_tags, from_boxed, from_hashes, from_answer_phrase, from_last_number):
        fn(text)
    assert time.perf_counter() - t0 < 5.0
