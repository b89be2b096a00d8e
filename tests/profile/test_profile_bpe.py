"""Profile a model that is nothing like the built-in one: byte-level BPE (multi-character tokens), a ChatML
template, a Qwen2 architecture, saved to disk and loaded by path — the path a user's local model takes."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

from reasonsift.data.example import Example
from reasonsift.profile import ProfileConfig, run_profile

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]

TEXT = [
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.",
    "First, compute half of 48, which is 24. Then add 48 and 24 to get 72. So the answer is 72.",
    "A train travels 60 miles per hour for 3 hours. Distance equals speed times time, 180 miles.",
] * 20


@pytest.fixture(scope="module")
def bpe_model_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("qwen-bpe")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        TEXT,
        trainers.BpeTrainer(
            vocab_size=600,
            special_tokens=SPECIAL,
            show_progress=False,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", model_max_length=512
    )
    fast.chat_template = CHATML
    torch.manual_seed(0)
    cfg = Qwen2Config(
        vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=512, tie_word_embeddings=True,
        pad_token_id=fast.pad_token_id, eos_token_id=fast.eos_token_id,
    )  # fmt: skip
    model = Qwen2ForCausalLM(cfg)
    with torch.no_grad():
        model.get_output_embeddings().weight.mul_(20.0)  # peaked distributions: entropies vary
    model.save_pretrained(d)
    fast.save_pretrained(d)
    return d, fast


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
