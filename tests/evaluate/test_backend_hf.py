"""The HF backend on the built-in model: left padding, stop strings, finish reasons, seeded sampling, progress,
log-likelihood; the sampling step against hand-computed draws."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import reasonsift
from reasonsift.data.render import prompt_text
from reasonsift.evaluate.backends import Generation, SamplingParams, get_backend
from reasonsift.evaluate.backends.hf import HFBackend, sample_tokens
from reasonsift.models import load
from reasonsift.models.template import render
from reasonsift.tasks import get_task

TINY = Path(reasonsift.__file__).parent / "assets" / "models" / "tiny-arith"


@pytest.fixture(scope="module")
def tiny():
    return load(str(TINY))


@pytest.fixture(scope="module")
def prompts(tiny):
    _, tok = tiny
    exs = get_task("arith").generate(4, seed=0)
    return [
        render(tok, [{"role": "user", "content": prompt_text(e)}], add_generation_prompt=True) for e in exs
    ]


def test_prompts_have_different_lengths(tiny, prompts):
    lengths = {len(tiny[1](p, add_special_tokens=False).input_ids) for p in prompts}
    assert len(lengths) > 1  # otherwise the padding test below would test nothing


def test_greedy_batched_equals_unpadded_generate(tiny, prompts):
    """Left-padded batches give what the model's own generate gives one unpadded prompt at a time."""
    model, tok = tiny
    out = HFBackend(model, tok, batch_size=4).generate(prompts, SamplingParams(max_new_tokens=40))
    for p, gens in zip(prompts, out, strict=True):
        ids = tok(p, add_special_tokens=False, return_tensors="pt").input_ids
        ref = model.generate(ids, max_new_tokens=40, do_sample=False, pad_token_id=tok.pad_token_id)
        ref_ids = ref[0, ids.shape[1] :].tolist()
        assert gens[0].text == tok.decode(ref_ids, skip_special_tokens=True)
        assert gens[0].n_tokens == len(ref_ids)
        assert gens[0].finish_reason == ("eos" if ref_ids[-1] == tok.eos_token_id else "length")


def test_stop_string_cuts_before_it(tiny, prompts):
    model, tok = tiny
    b = HFBackend(model, tok, batch_size=3)
    full = [g[0].text for g in b.generate(prompts, SamplingParams(max_new_tokens=40))]
    out = b.generate(prompts, SamplingParams(max_new_tokens=40, stop=[";", "=1"]))
    for f, (g,) in zip(full, out, strict=True):
        cut = min(f.find(s) for s in (";", "=1") if s in f)
        assert g.text == f[:cut] and g.finish_reason == "stop"
        assert g.n_tokens < len(
            tok(f, add_special_tokens=False).input_ids
        )  # stopped early, not trimmed after


def test_finish_reasons_and_length(tiny, prompts):
    model, tok = tiny
    b = HFBackend(model, tok)
    (g,) = b.generate(prompts[:1], SamplingParams(max_new_tokens=5))[0]
    assert g.finish_reason == "length" and g.n_tokens == 5
    (g,) = b.generate(prompts[:1], SamplingParams(max_new_tokens=100))[0]
    assert g.finish_reason == "eos" and "</s>" not in g.text


def test_seeded_sampling_is_reproducible_and_distinct(tiny, prompts):
    model, tok = tiny
    b = HFBackend(model, tok, batch_size=5)
    sp = SamplingParams(n=4, temperature=1.5, max_new_tokens=30, seed=7)
    a, again = b.generate(prompts, sp), b.generate(prompts, sp)
    assert a == again
    assert all(len(g) == 4 for g in a)
    assert any(len({s.text for s in g}) > 1 for g in a)  # samples of one prompt differ
    other = b.generate(prompts, SamplingParams(n=4, temperature=1.5, max_new_tokens=30, seed=8))
    assert other != a


def test_greedy_n_samples_are_identical(tiny, prompts):
    model, tok = tiny
    out = HFBackend(model, tok).generate(prompts[:2], SamplingParams(n=3, max_new_tokens=30))
    assert all(len(g) == 3 and len({s.text for s in g}) == 1 for g in out)


def test_tiny_top_p_is_greedy(tiny, prompts):
    """top-p that keeps only the most likely token samples the greedy path, whatever the temperature."""
    model, tok = tiny
    b = HFBackend(model, tok)
    greedy = b.generate(prompts, SamplingParams(max_new_tokens=30))
    nucleus = b.generate(prompts, SamplingParams(temperature=2.0, top_p=1e-6, max_new_tokens=30, seed=3))
    assert nucleus == greedy


def test_progress_counts_every_completion_and_token(tiny, prompts):
    model, tok = tiny
    calls: list[tuple[int, int]] = []
    out = HFBackend(model, tok, batch_size=4).generate(
        prompts,
        SamplingParams(n=2, temperature=1.0, max_new_tokens=20),
        on_progress=lambda c, t: calls.append((c, t)),
    )
    assert sum(c for c, _ in calls) == 2 * len(prompts)
    assert sum(t for _, t in calls) == sum(s.n_tokens for g in out for s in g)


def test_sample_tokens_inverse_cdf():
    """p = (0.5, 0.25, 0.25): u < 0.5 -> 0, u in [0.5, 0.75) -> 1, else 2; top-p 0.5 keeps token 0 only."""
    logits = torch.log(torch.tensor([[0.5, 0.25, 0.25]] * 4))
    sp = SamplingParams(temperature=1.0)
    assert sample_tokens(logits, sp, [0.1, 0.49, 0.6, 0.9]) == [0, 0, 1, 2]
    assert (
        sample_tokens(logits, SamplingParams(temperature=1.0, top_p=0.5), [0.1, 0.49, 0.6, 0.99]) == [0] * 4
    )
    assert sample_tokens(logits, SamplingParams(), [0.9] * 4) == [0] * 4  # greedy ignores the uniforms


def test_loglikelihood_matches_full_forward(tiny, prompts):
    model, tok = tiny
    b = get_backend("hf", model, tok)
    reqs = [(prompts[0], "<think>1"), (prompts[1], "abc")]
    got = b.loglikelihood(reqs)
    for (ctx, cont), lp in zip(reqs, got, strict=True):
        c = tok(ctx, add_special_tokens=False).input_ids
        x = tok(cont, add_special_tokens=False).input_ids
        with torch.no_grad():
            logits = model(torch.tensor([c + x])).logits[0].double().log_softmax(-1)
        ref = sum(float(logits[len(c) + k - 1, t]) for k, t in enumerate(x))
        assert lp == pytest.approx(ref, abs=1e-4)
    assert got[0] > got[1]


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"n": 0}, "n"),
        ({"temperature": -1}, "temperature"),
        ({"top_p": 0}, "top_p"),
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"stop": [""]}, "stop"),
        ({"min_thinking_tokens": -1}, "min_thinking_tokens"),
        ({"min_thinking_tokens": 5, "max_thinking_tokens": 4}, "min_thinking_tokens"),
    ],
)
def test_sampling_params_name_the_field(kw, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        SamplingParams(**kw)


def test_get_backend_rejects_unknown_and_bad_batch(tiny):
    with pytest.raises(ValueError, match="^backend:"):
        get_backend("nope", *tiny)
    with pytest.raises(ValueError, match="^batch_size:"):
        HFBackend(*tiny, batch_size=0)


def test_generation_record():
    assert Generation("x", 1, "eos").n_forced == 0


def test_left_padding_on_a_random_qwen2():
    """Another architecture (Qwen2: biased q/k/v, grouped KV heads): batched greedy equals one prompt at a time."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from reasonsift.models.tokenizer import build_tokenizer

    tok = build_tokenizer()
    torch.manual_seed(0)
    cfg = Qwen2Config(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=256, pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
    )  # fmt: skip
    model = Qwen2ForCausalLM(cfg).eval()
    with torch.no_grad():
        model.lm_head.weight.mul_(20.0)  # peaked distributions: no near-ties for rounding to flip
    prompts = [
        "<|user|>1+2<|assistant|>",
        "<|user|>12+345-6789<|assistant|>",
        "<|user|>hello there<|assistant|>",
    ]
    sp = SamplingParams(max_new_tokens=12)
    batched = HFBackend(model, tok, batch_size=3).generate(prompts, sp)
    alone = [HFBackend(model, tok, batch_size=1).generate([p], sp)[0] for p in prompts]
    assert batched == alone


def test_samples_do_not_depend_on_batch_mates(tiny, prompts):
    """Each sample has its own stream (seed, sample, prompt): another batch size or prompt order gives the
    same samples here (a per-batch RNG would not); only float rounding of the padded forward could differ."""
    model, tok = tiny
    sp = SamplingParams(n=2, temperature=1.0, max_new_tokens=24, seed=5)
    a = HFBackend(model, tok, batch_size=8).generate(prompts, sp)
    b = HFBackend(model, tok, batch_size=3).generate(prompts[::-1], sp)[::-1]
    assert a == b
