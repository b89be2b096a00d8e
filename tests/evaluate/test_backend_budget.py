"""s1 budget forcing (arXiv 2501.19393): the state machine on hand-fed tokens, then on the built-in model."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import reasonsift
from reasonsift.data.render import THINK_CLOSE, THINK_OPEN, prompt_text
from reasonsift.evaluate.backends import SamplingParams
from reasonsift.evaluate.backends.hf import ANSWER, THINKING, Budget, HFBackend, Row
from reasonsift.models import load
from reasonsift.models.template import render
from reasonsift.tasks import get_task

TINY = Path(reasonsift.__file__).parent / "assets" / "models" / "tiny-arith"
OPEN, CLOSE, EOS, W1, W2, X = 1, 2, 3, 10, 11, 5


def feed(budget: Budget, tokens: list[int]) -> Row:
    row = Row(random.Random(0))
    for t in tokens:
        row.push(t, budget)
    return row


def test_min_replaces_early_close_and_eos_with_wait():
    b = Budget(OPEN, CLOSE, [W1, W2], lo=4, hi=None, early_end=frozenset({CLOSE, EOS}))
    row = feed(b, [OPEN, X, CLOSE, X, X, CLOSE, X])  # the 2nd model token after the close is overridden (W2)
    assert row.ids == [OPEN, X, W1, W2, X, CLOSE, X]
    assert row.n_forced == 1 and row.phase == ANSWER and row.thought == 4
    row = feed(b, [OPEN, EOS])
    assert row.ids == [OPEN, W1] and row.phase == THINKING and row.n_forced == 1


def test_max_forces_close_and_drops_pending_wait():
    b = Budget(OPEN, CLOSE, [W1, W2], lo=2, hi=2, early_end=frozenset({CLOSE}))
    row = feed(b, [OPEN, X, CLOSE, X, X, X])  # Wait starts at 1 thinking token; at 2 the close is forced
    assert row.ids == [OPEN, X, W1, CLOSE, X, X]
    assert row.n_forced == 2 and row.thought == 2 and row.phase == ANSWER
    row = feed(Budget(OPEN, CLOSE, [W1], lo=None, hi=0), [OPEN, X, X])
    assert row.ids == [OPEN, CLOSE, X] and row.n_forced == 1


def test_natural_close_within_budget_is_left_alone():
    b = Budget(OPEN, CLOSE, [W1], lo=1, hi=3, early_end=frozenset({CLOSE}))
    row = feed(b, [OPEN, X, X, CLOSE, X])
    assert row.ids == [OPEN, X, X, CLOSE, X] and row.n_forced == 0


@pytest.fixture(scope="module")
def backend():
    model, tok = load(str(TINY))
    exs = get_task("arith").generate(3, seed=0)
    prompts = [
        render(tok, [{"role": "user", "content": prompt_text(e)}], add_generation_prompt=True) for e in exs
    ]
    return HFBackend(model, tok, batch_size=3), prompts


def thinking_tokens(tok, text: str) -> int:
    """Tokens between <think> and </think> (or the end of the text)."""
    body = text.split(THINK_OPEN, 1)[1].split(THINK_CLOSE, 1)[0]
    return len(tok(body, add_special_tokens=False).input_ids)


def test_min_thinking_tokens_on_the_model(backend):
    b, prompts = backend
    plain = b.generate(prompts, SamplingParams(max_new_tokens=120))
    lo = max(thinking_tokens(b.tokenizer, g[0].text) for g in plain) + 5
    out = b.generate(prompts, SamplingParams(max_new_tokens=120, min_thinking_tokens=lo))
    for (g,) in out:
        assert "Wait" in g.text and g.n_forced >= 1
        assert thinking_tokens(b.tokenizer, g.text) >= lo or g.finish_reason == "length"


def test_max_thinking_tokens_on_the_model(backend):
    b, prompts = backend
    out = b.generate(prompts, SamplingParams(max_new_tokens=60, max_thinking_tokens=5))
    for (g,) in out:
        assert g.text.count(THINK_CLOSE) >= 1 and g.n_forced == 1
        assert thinking_tokens(b.tokenizer, g.text) == 5
        assert g.text.split(THINK_CLOSE, 1)[1]  # the answer follows the forced close


def test_loose_budget_changes_nothing(backend):
    b, prompts = backend
    plain = b.generate(prompts, SamplingParams(max_new_tokens=60))
    loose = b.generate(
        prompts, SamplingParams(max_new_tokens=60, min_thinking_tokens=0, max_thinking_tokens=500)
    )
    assert loose == plain


def test_prompt_ending_in_think_starts_thinking(backend):
    b, prompts = backend
    out = b.generate(
        [p + THINK_OPEN for p in prompts], SamplingParams(max_new_tokens=40, max_thinking_tokens=3)
    )
    for (g,) in out:
        head = g.text.split(THINK_CLOSE, 1)[0]
        assert THINK_CLOSE in g.text and len(b.tokenizer(head, add_special_tokens=False).input_ids) == 3


def test_budget_forcing_needs_single_think_tokens(backend):
    """A tokenizer that splits </think> cannot be budget-forced: a ValueError names the field."""
    b, prompts = backend

    class CharTok:  # every character its own token, <think> included
        pad_token_id, eos_token_id, bos_token_id = 0, 3, 2

        def __call__(self, text, add_special_tokens=False):
            return type("Enc", (), {"input_ids": [7 + ord(c) % 90 for c in text]})()

    split = HFBackend(b.model, CharTok())
    with pytest.raises(ValueError, match="^max_thinking_tokens: budget forcing needs"):
        split.generate(prompts[:1], SamplingParams(max_thinking_tokens=3))
