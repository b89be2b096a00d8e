from __future__ import annotations

import pytest

from reasonsift.models.template import has_chat_template, render, render_plain

MSGS = [{"role": "user", "content": "12+30"}, {"role": "assistant", "content": "<think>12+30=42</think>42"}]


def test_chat_template_used_when_present(tok):
    assert has_chat_template(tok)
    assert render(tok, MSGS) == "<|user|>12+30<|assistant|><think>12+30=42</think>42</s>"
    assert render(tok, MSGS[:1], add_generation_prompt=True) == "<|user|>12+30<|assistant|>"


def test_plain_template_for_tokenizers_without_one(tok):
    tok.chat_template = None
    assert not has_chat_template(tok)
    assert render(tok, MSGS) == "User: 12+30\nAssistant: <think>12+30=42</think>42</s>\n"
    assert render(tok, MSGS[:1], add_generation_prompt=True) == "User: 12+30\nAssistant:"


def test_plain_template_reasoning_content_and_system():
    msgs = [
        {"role": "system", "content": "be brief"},
        {"role": "assistant", "content": "3", "reasoning_content": "1+2=3"},
    ]
    assert (
        render_plain(msgs, add_generation_prompt=False)
        == "System: be brief\nAssistant: <think>1+2=3</think>3\n"
    )


def test_plain_template_rejects_unknown_role():
    with pytest.raises(ValueError, match=r"messages\[0\]\.role"):
        render_plain([{"role": "tool", "content": "x"}], add_generation_prompt=False)
