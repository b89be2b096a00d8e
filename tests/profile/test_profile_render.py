import pytest

from reasonsift.data.example import Example
from reasonsift.profile.render import ANSWER, OTHER, TRACE, Renderer, offsets_by_decode

EX = Example(id="e1", question="27-40+88", answer="75", trace="27-40=-13;-13+88=75")


def test_segments_and_steps_char_tokenizer(tok):
    r = Renderer(tok).example(EX)
    text = tok.decode(r.input_ids)
    assert text == "<|user|>27-40+88<|assistant|><think>27-40=-13;-13+88=75</think>75</s>"
    toks = [tok.decode([i]) for i in r.input_ids]
    assert toks[r.score_start - 1] == "<|assistant|>" and toks[r.score_start] == "<think>"
    seg = r.segment[r.score_start :]
    scored = toks[r.score_start :]
    got = "".join(t for t, s in zip(scored, seg, strict=True) if s == TRACE)
    assert got == EX.trace
    assert "".join(t for t, s in zip(scored, seg, strict=True) if s == ANSWER) == "75"
    assert [s for t, s in zip(scored, seg, strict=True) if t in ("<think>", "</think>", "</s>")] == [
        OTHER
    ] * 3
    steps = r.step[r.score_start :]
    step0 = "".join(t for t, s in zip(scored, steps, strict=True) if s == 0)
    step1 = "".join(t for t, s in zip(scored, steps, strict=True) if s == 1)
    assert step0 == "27-40=-13;" and step1 == "-13+88=75"  # separators go with the preceding step
    assert all(s == -1 for s in r.step[: r.score_start])


def test_prefix_mismatch_names_the_example(tok, tmp_path):
    # the generation prompt ends with a '*' the full rendering does not have
    bad = (
        "{%- for m in messages -%}{%- if m['role'] == 'user' -%}<|user|>{{ m['content'] }}"
        "{%- else -%}<|assistant|>{{ m['content'] }}</s>{%- endif -%}{%- endfor -%}"
        "{%- if add_generation_prompt -%}<|assistant|>*{%- endif -%}"
    )
    with pytest.raises(ValueError, match="example 'e1'.*not a token prefix"):
        Renderer(tok, template=bad).example(EX)


def test_template_rewriting_the_answer_is_an_error(tok):
    rewrite = (
        "{%- for m in messages -%}{%- if m['role'] == 'user' -%}<|user|>{{ m['content'] }}"
        "{%- else -%}<|assistant|>{{ m['content'] | upper }}{%- endif -%}{%- endfor -%}"
        "{%- if add_generation_prompt -%}<|assistant|>{%- endif -%}"
    )
    ex = Example(id="e2", question="q", answer="yes", trace="a")
    with pytest.raises(ValueError, match="example 'e2'.*rewrote"):
        Renderer(tok, template=rewrite).example(ex)


def test_no_template_raw_text(tok):
    r = Renderer(tok, no_template=True).example(EX)
    assert tok.decode(r.input_ids) == "27-40+88\n<think>27-40=-13;-13+88=75</think>75"
    assert tok.decode(r.input_ids[: r.score_start]) == "27-40+88\n"


def test_decode_offsets_match_offset_mapping(tok):
    text = "<|user|>1+2<|assistant|><think>1+2=3</think>3</s>"
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    assert offsets_by_decode(tok, enc["input_ids"]) == [tuple(o) for o in enc["offset_mapping"]]


def test_template_syntax_error_is_path_line_template_message(tok):
    bad = "{% for m in messages %}\n{{ m['content'] }\n{% endfor %}"
    with pytest.raises(ValueError) as e:
        Renderer(tok, template=bad, template_path="my.jinja")
    assert str(e.value) == "my.jinja:2: template: unexpected '}'"
    Renderer(tok, template=bad, no_template=True)  # not used, not checked
