"""Profile a model that is nothing like the built-in one: byte-level BPE (multi-character tokens), a ChatML
template, a Qwen2 architecture, saved to disk and loaded by path — the path a user's local model takes."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from transformers import Qwen2ForCausalLM

from reasonsift.data.example import Example
from reasonsift.profile import ProfileConfig, run_profile


def test_profile_bpe_chatml_model_from_disk(bpe_model_dir, tmp_path):
    model_dir, tok = bpe_model_dir
    exs = [
        Example(
            id="gsm-1",
            question="Natalia sold clips to 48 of her friends in April, and half as many in May. How many?",
            trace="First, half of 48 is 24.\nThen 48 + 24 = 72.",
            answer="72",
        ),
        Example(
            id="gsm-2", question="A train goes 60 miles per hour for 3 hours. How far?", answer="180 miles"
        ),
    ]
    data = tmp_path / "limo.jsonl"
    data.write_text(
        "\n".join(
            json.dumps({"question": e.question, "solution": e.trace, "answer": e.answer})
            for e in exs
            if e.trace
        )
    )
    res = run_profile(ProfileConfig(data=str(data), model=str(model_dir), out_dir=str(tmp_path / "run")))
    df = pd.read_parquet(res.out_dir / "examples")
    assert res.stats["n_profiled"] == 1  # LIMO rows need a solution: the trace-less one is not in the file
    row = df.iloc[0]
    # Tokens are multi-character here; the scored span is exactly the rendered assistant turn.
    assert max(len(t) for t in row.tokens) > 1
    assert "".join(row.tokens) == "<think>" + exs[0].trace + "</think>72<|im_end|>\n"
    seg, step = np.asarray(row.segment), np.asarray(row.step)
    trace_text = "".join(t for t, s in zip(row.tokens, seg, strict=True) if s == 0)
    answer_text = "".join(t for t, s in zip(row.tokens, seg, strict=True) if s == 1)
    assert trace_text.strip() == exs[0].trace.strip() and answer_text == "72"
    assert set(step[seg == 0]) == {0, 1} and (step[seg != 0] == -1).all()
    # Entropy/log-prob agree with a plain forward pass over the full logits (alignment: t-1 predicts t).
    model = Qwen2ForCausalLM.from_pretrained(model_dir).eval()
    ids = torch.tensor([list(row.input_ids)])
    with torch.no_grad():
        logp = torch.log_softmax(model(ids).logits[0].double(), -1)
    s = int(row.score_start)
    pos = torch.arange(s - 1, ids.shape[1] - 1)
    ref_h = -(logp[pos].exp() * logp[pos]).sum(-1).numpy()
    ref_lp = logp[pos, ids[0, s:]].numpy()
    np.testing.assert_allclose(row.entropy, ref_h, atol=1e-4)
    np.testing.assert_allclose(row.logprob, ref_lp, atol=1e-4)


def test_ifd_without_bos_against_plain_passes(bpe_model_dir, tmp_path):
    """This tokenizer has no BOS: the first token of a plain rendering cannot be scored, so s(A) and s(A|Q)
    both leave out the first response token (and PPL(Q), PPL(Q|A) the first question token)."""
    from reasonsift.data.render import completion_text, prompt_text
    from reasonsift.profile import ProfileConfig, run_profile
    from reasonsift.profile.render import REVERSE_PROMPT

    model_dir, tok = bpe_model_dir
    assert tok.bos_token_id is None
    model = Qwen2ForCausalLM.from_pretrained(model_dir).eval()
    ex = Example(id="g", question="Half of 48?", trace="First, half of 48 is 24.", answer="24")
    row = pd.read_parquet(
        run_profile(
            ProfileConfig(out_dir=str(tmp_path), model="q", infogain=False), (model, tok), examples=[ex]
        ).out_dir
        / "examples"
    ).iloc[0]

    def nll(text: str, lo: int, hi: int, skip_first: bool) -> float:
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
        ids = torch.tensor([enc["input_ids"]])
        with torch.no_grad():
            logp = torch.log_softmax(model(ids).logits[0].double(), -1)
        toks = [t for t, (s, e) in enumerate(enc["offset_mapping"]) if e > s and lo <= s < hi]
        if skip_first:
            toks = toks[1:]
        return float(np.mean([-float(logp[t - 1, ids[0, t]]) for t in toks if t > 0]))

    q, c = prompt_text(ex), completion_text(ex)
    full = tok.apply_chat_template(
        [{"role": "user", "content": q}, {"role": "assistant", "content": c}], tokenize=False
    )
    c0 = full.rindex(c)
    s_aq = nll(full, c0, c0 + len(c), skip_first=True)
    s_a = nll(c, 0, len(c), skip_first=False)  # position 0 is never scored: the first token drops out
    assert row.s_a_given_q == pytest.approx(s_aq, rel=1e-5)
    assert row.s_a == pytest.approx(s_a, rel=1e-5)
    assert row.ifd == pytest.approx(s_aq / s_a, rel=1e-5)
    rev = tok.apply_chat_template(
        [{"role": "user", "content": REVERSE_PROMPT.format(response=c)}, {"role": "assistant", "content": q}],
        tokenize=False,
    )
    q0 = rev.rindex(q)
    nll_qa, nll_q = nll(rev, q0, q0 + len(q), skip_first=True), nll(q, 0, len(q), skip_first=False)
    assert row.r_ifd == pytest.approx(math.exp(nll_qa - nll_q), rel=1e-4)
