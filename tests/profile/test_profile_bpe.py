"""Profile a model that is nothing like the built-in one: byte-level BPE (multi-character tokens), a ChatML
template, a Qwen2 architecture, saved to disk and loaded by path — the path a user's local model takes."""

import json

import numpy as np
import pandas as pd
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
        "\n".join(json.dumps({"question": e.question, "solution": e.trace, "answer": e.answer}) for e in exs)
    )
    res = run_profile(ProfileConfig(data=str(data), model=str(model_dir), out_dir=str(tmp_path / "run")))
    df = pd.read_parquet(res.out_dir / "examples")
    assert res.stats["n_profiled"] == 2
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
    # No trace: no steps, IFD still defined, information gain has the single i = 0 point.
    row2 = df.iloc[1]
    assert (np.asarray(row2.segment) != 0).all() and np.isfinite(row2.ifd)
