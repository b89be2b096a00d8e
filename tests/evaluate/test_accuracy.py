from __future__ import annotations

import pytest
import torch

from reasonsift.evaluate.accuracy import evaluate_accuracy, final_answer, verify_responses
from reasonsift.evaluate.generate import greedy_generate
from reasonsift.models.tokenizer import build_tokenizer
from reasonsift.tasks import get_task


def test_final_answer():
    assert final_answer("<think>1+2=3</think>3") == "3"
    assert final_answer("<think>a</think>x<think>b</think> 5 ") == "5"
    assert final_answer("<think>never closed 3") == ""
    assert final_answer("42") == "42"


def test_verify_responses_hand_checked():
    task = get_task("arith")
    exs = task.generate(5, seed=1, split="test")
    replies = [
        f"<think>{exs[0].trace}</think>{exs[0].answer}",  # right
        f"<think>x</think>{int(exs[1].answer) + 1}",  # wrong
        exs[2].answer,  # right, no trace
        f"<think>{exs[3].answer}",  # unclosed think: no answer
        "<think>x</think>",  # nothing after the trace: no answer
    ]
    got = verify_responses(task, exs, replies)
    assert [o.state for o in got] == ["correct", "wrong", "correct", "no_answer", "no_answer"]
    assert [o.score for o in got] == [1.0, 0.0, 1.0, 0.0, 0.0]
    assert got[1].extracted == str(int(exs[1].answer) + 1)
    with pytest.raises(ValueError, match="responses"):
        verify_responses(task, exs, replies[:2])


class FakeLM:
    """Answers an arith question correctly iff its first number is even; checks left padding."""

    def __init__(self, tok):
        self.tok, self.device, self.training = tok, torch.device("cpu"), False
        self.batches = []

    def eval(self):
        self.training = False

    def train(self, mode=True):
        self.training = mode

    def generate(self, input_ids, attention_mask, max_new_tokens, **kw):
        assert (attention_mask[:, -1] == 1).all(), "prompts must be left-padded"
        self.batches.append(input_ids.shape[0])
        rows = []
        for ids, m in zip(input_ids, attention_mask, strict=True):
            prompt = self.tok.decode(ids[m.bool()], skip_special_tokens=True)
            task = get_task("arith")
            ex = next(e for e in EXS if e.question == prompt)
            ans = ex.answer if int(ex.question.split("+")[0].split("-")[0]) % 2 == 0 else "0"
            new = self.tok(f"<think>t</think>{ans}</s>", add_special_tokens=False).input_ids
            rows.append(torch.cat([ids, torch.tensor(new)]))
            del task
        width = max(len(r) for r in rows)
        pad = self.tok.pad_token_id
        return torch.stack([torch.cat([r, torch.full((width - len(r),), pad)]) for r in rows])


EXS = get_task("arith").generate(30, seed=0, split="test")


def test_evaluate_accuracy_against_reference():
    tok = build_tokenizer()
    fake = FakeLM(tok)
    res = evaluate_accuracy(fake, tok, ["arith"], n=30, splits=["test"], seed=0, batch_size=8)
    want = sum(int(e.question.split("+")[0].split("-")[0]) % 2 == 0 and e.answer != "0" for e in EXS)
    want += sum(int(e.question.split("+")[0].split("-")[0]) % 2 == 1 and e.answer == "0" for e in EXS)
    s = res.scores[0]
    assert s.correct == want and s.n == 30 and s.wrong == 30 - want
    assert s.no_answer == s.timeout == s.error == 0
    assert res.accuracy("arith", "test") == pytest.approx(want / 30)
    assert fake.batches == [8, 8, 8, 6]
    assert [r["id"] for r in res.records] == [e.id for e in EXS]
    assert all(r["state"] in ("correct", "wrong") and r["extracted"] is not None for r in res.records)


def test_greedy_generate_batched_equals_one_by_one():
    from reasonsift.models.tiny import TinySpec, build_tiny_model

    tok = build_tokenizer()
    model = build_tiny_model(tok, TinySpec(hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64))
    prompts = ["<|user|>1+2<|assistant|>", "<|user|>12+345-6<|assistant|>", "<|user|>9<|assistant|>"]
    batched = greedy_generate(model, tok, prompts, batch_size=3, max_new_tokens=6)
    single = [greedy_generate(model, tok, [p], batch_size=1, max_new_tokens=6)[0] for p in prompts]
    assert batched == single


def test_evaluate_rejects_bad_split():
    tok = build_tokenizer()
    with pytest.raises(ValueError, match="split"):
        evaluate_accuracy(FakeLM(tok), tok, ["arith"], n=2, splits=["dev"])
