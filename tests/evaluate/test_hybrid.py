"""Hybrid decoding against a plain per-prompt reference loop (no padding, no KV cache, full forward each step)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from reasonsift.evaluate.generate import greedy_generate
from reasonsift.evaluate.hybrid import (
    HybridOutput,
    HybridResult,
    gap_recovered,
    gap_recovered_ci,
    hybrid_decode,
)
from reasonsift.models.tokenizer import build_tokenizer
from reasonsift.ops.masks import forking_threshold

ASSETS = Path(__file__).resolve().parents[2] / "src" / "reasonsift" / "assets" / "models"
PROMPTS = [
    "<|user|>12+7<|assistant|>",
    "<|user|>3<|assistant|>",
    "<|user|>a much longer prompt: 45-9<|assistant|>",
]


def tiny_llama(tok, seed: int, vocab: int | None = None) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    cfg = LlamaConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
        intermediate_size=64, vocab_size=vocab or len(tok), max_position_embeddings=256,
        pad_token_id=tok.pad_token_id,
    )  # fmt: skip
    m = LlamaForCausalLM(cfg).eval()
    with torch.no_grad():
        # Random init is near-uniform: sharpen so that entropies and argmax margins vary.
        m.lm_head.weight.mul_(40.0)
    return m


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer()


@pytest.fixture(scope="module")
def pair(tok):
    """A "base" and a "trained" model that agree on most greedy tokens: the same weights, head perturbed."""
    trained = tiny_llama(tok, 0)
    with torch.no_grad():
        g = torch.Generator().manual_seed(1)
        trained.lm_head.weight.add_(0.3 * torch.randn(trained.lm_head.weight.shape, generator=g))
    return tiny_llama(tok, 0), trained


@torch.no_grad()
def reference(base, trained, tok, prompt, max_new_tokens, threshold=None, steer=True):
    """One prompt, full forward of the whole sequence at every step: (token ids, steered flags, base entropies)."""
    ids = tok(prompt, add_special_tokens=False).input_ids
    out, flags, ents = [], [], []
    for _ in range(max_new_tokens):
        x = torch.tensor([ids + out])
        zb = base(x).logits[0, -1].double()
        zt = trained(x).logits[0, -1].double()
        h = float(-(zb.softmax(-1) * zb.log_softmax(-1)).sum())
        tb, tt = int(zb.argmax()), int(zt.argmax())
        s = steer and tb != tt and (threshold is None or h >= threshold)
        out.append(tt if s else tb)
        flags.append(s)
        ents.append(h)
        if out[-1] == tok.eos_token_id:
            break
    return out, flags, ents


def test_same_model_steers_nothing_and_equals_greedy(pair, tok):
    base, _ = pair
    res = hybrid_decode(base, base, tok, PROMPTS, max_new_tokens=10)
    assert res.n_steered == 0 and res.fraction_steered == 0.0 and res.n_generated > 0
    for p, o in zip(PROMPTS, res.outputs, strict=True):
        assert o.token_ids == reference(base, base, tok, p, 10)[0]
    assert res.texts == greedy_generate(base, tok, PROMPTS, max_new_tokens=10)


def test_infinite_threshold_steers_nothing_and_equals_base_greedy(pair, tok):
    base, trained = pair
    res = hybrid_decode(base, trained, tok, PROMPTS, max_new_tokens=10, only_forking=True, threshold=math.inf)
    assert res.n_steered == 0 and res.threshold == math.inf
    assert res.texts == greedy_generate(base, tok, PROMPTS, max_new_tokens=10)


@pytest.mark.parametrize("kw", [{}, {"only_forking": True, "threshold": -math.inf}])
def test_steering_wherever_they_differ_is_the_trained_models_greedy(pair, tok, kw):
    """By induction the prefix always equals the trained model's greedy prefix (module doc); the test could fail:
    the base model's own greedy output differs, and many tokens are steered."""
    base, trained = pair
    res = hybrid_decode(base, trained, tok, PROMPTS, max_new_tokens=10, **kw)
    assert res.texts == greedy_generate(trained, tok, PROMPTS, max_new_tokens=10)
    assert res.texts != greedy_generate(base, tok, PROMPTS, max_new_tokens=10)
    assert 0 < res.n_steered < res.n_generated


def test_matches_reference_flags_and_fraction_steered(pair, tok):
    base, trained = pair
    res = hybrid_decode(base, trained, tok, PROMPTS, max_new_tokens=8)
    steered = generated = 0
    for p, o in zip(PROMPTS, res.outputs, strict=True):
        ids, flags, _ = reference(base, trained, tok, p, 8)
        assert (o.token_ids, o.steered) == (ids, flags)
        assert o.n_generated == len(ids) and o.n_steered == sum(flags)
        steered, generated = steered + sum(flags), generated + len(ids)
    assert res.fraction_steered == steered / generated


def test_fraction_steered_by_hand():
    res = HybridResult(
        [HybridOutput("ab", [5, 6, 3], [True, False, False], "eos"), HybridOutput("c", [7], [True], "length")]
    )
    assert (res.n_steered, res.n_generated, res.fraction_steered) == (2, 4, 0.5)
    assert math.isnan(HybridResult([]).fraction_steered)


def test_only_forking_threshold_from_base_greedy_pool(pair, tok):
    """tau = (1 - rho) quantile of the base model's entropies over its own greedy completions of the prompts;
    steering happens only where the base entropy reaches tau."""
    base, trained = pair
    res = hybrid_decode(base, trained, tok, PROMPTS, max_new_tokens=8, only_forking=True, rho=0.3)
    pool = [h for p in PROMPTS for h in reference(base, trained, tok, p, 8, steer=False)[2]]
    tau = forking_threshold(torch.tensor(pool), torch.ones(len(pool), dtype=torch.bool), 0.3)
    assert res.threshold == pytest.approx(tau, abs=1e-5) and res.base_entropy_pool == len(pool)
    assert res.rho == 0.3
    for p, o in zip(PROMPTS, res.outputs, strict=True):
        ids, flags, ents = reference(base, trained, tok, p, 8, threshold=res.threshold)
        assert (o.token_ids, o.steered) == (ids, flags)
        assert all(h >= res.threshold for h, s in zip(ents, flags, strict=True) if s)
    full = hybrid_decode(base, trained, tok, PROMPTS, max_new_tokens=8)
    assert 0 < res.n_steered < full.n_steered  # fewer positions are eligible
    one = hybrid_decode(
        base, trained, tok, PROMPTS, max_new_tokens=8, only_forking=True, rho=0.3, batch_size=1
    )
    # the pool is the prompt set, not a batch (equal up to float32 differences of padded vs unpadded matmuls)
    assert one.threshold == pytest.approx(res.threshold, abs=1e-5)
    assert [o.token_ids for o in one.outputs] == [o.token_ids for o in res.outputs]


def test_left_padded_batch_equals_one_prompt_at_a_time(pair, tok):
    base, trained = pair
    prompts = PROMPTS + ["<|user|>99*9<|assistant|>", "<|user|>x<|assistant|>"]
    batched = hybrid_decode(base, trained, tok, prompts, max_new_tokens=8, only_forking=True, threshold=1.0)
    single = hybrid_decode(
        base, trained, tok, prompts, max_new_tokens=8, only_forking=True, threshold=1.0, batch_size=1
    )
    assert [(o.token_ids, o.steered) for o in batched.outputs] == [
        (o.token_ids, o.steered) for o in single.outputs
    ]


def test_builtin_trained_vs_base_pair_reaches_eos():
    """The shipped pair (answers-only base, trace-trained model): hybrid == trained greedy, stopped at EOS."""
    from reasonsift.models import load

    base, tok = load(str(ASSETS / "tiny-arith-answer"))
    trained, tok2 = load(str(ASSETS / "tiny-arith"))
    prompts = ["<|user|>12+7<|assistant|>", "<|user|>40-13+2<|assistant|>"]
    res = hybrid_decode(base, trained, tok, prompts, max_new_tokens=40, trained_tokenizer=tok2)
    assert res.texts == greedy_generate(trained, tok, prompts, max_new_tokens=40)
    assert all(o.finish_reason == "eos" and o.token_ids[-1] == tok.eos_token_id for o in res.outputs)
    assert res.texts[0].startswith("<think>") and res.fraction_steered > 0.5  # base never opens a trace


def test_refusals(pair, tok):
    base, trained = pair
    with pytest.raises(ValueError, match="^threshold: only used with only_forking"):
        hybrid_decode(base, trained, tok, PROMPTS, max_new_tokens=4, threshold=1.0)
    with pytest.raises(ValueError, match="^trained: vocabulary size"):
        hybrid_decode(base, tiny_llama(tok, 2, vocab=len(tok) + 8), tok, PROMPTS, max_new_tokens=4)
    other = build_tokenizer()
    other.add_tokens(["<extra>"])
    with pytest.raises(ValueError, match="^trained_tokenizer: the two models' tokenizers differ"):
        hybrid_decode(base, trained, tok, PROMPTS, max_new_tokens=4, trained_tokenizer=other)
    with pytest.raises(ValueError, match="^max_new_tokens:"):
        hybrid_decode(base, trained, tok, PROMPTS, max_new_tokens=0)
    with pytest.raises(ValueError, match="^rho:"):
        hybrid_decode(base, trained, tok, PROMPTS, max_new_tokens=4, only_forking=True, rho=0.0)


def test_gap_recovered_reference_values():
    assert gap_recovered(0.2, 0.6, 0.5) == pytest.approx(0.75)
    assert gap_recovered(0.2, 0.6, 0.6) == pytest.approx(1.0)
    assert gap_recovered(0.2, 0.6, 0.2) == 0.0
    assert gap_recovered(0.2, 0.6, 0.1) == pytest.approx(-0.25)
    assert gap_recovered(0.5, 0.5, 0.7) is None


def test_gap_recovered_ci_resamples_questions_jointly():
    rng = np.random.default_rng(0)
    q = 120
    base = (rng.random(q) < 0.3).astype(float)
    trained = np.maximum(base, rng.random(q) < 0.5)
    hybrid = np.where(rng.random(q) < 0.6, trained, base)
    got = gap_recovered_ci(base, trained, hybrid, n_boot=300, seed=2)
    assert got["gap_recovered"] == pytest.approx(gap_recovered(base.mean(), trained.mean(), hybrid.mean()))
    idx = np.random.default_rng(2).integers(0, q, size=(300, q))
    reps = [gap_recovered(base[r].mean(), trained[r].mean(), hybrid[r].mean()) for r in idx]
    reps = np.array([r for r in reps if r is not None])
    assert (got["ci_low"], got["ci_high"]) == pytest.approx(tuple(np.quantile(reps, [0.025, 0.975])))
    assert got["ci_low"] <= got["gap_recovered"] <= got["ci_high"] and got["n_undefined"] == 300 - reps.size
    same = gap_recovered_ci(base, base, hybrid)
    assert same == {"gap_recovered": None, "ci_low": None, "ci_high": None, "n_undefined": 1000}
    with pytest.raises(ValueError, match="^hybrid:"):
        gap_recovered_ci(base, trained, hybrid[:-1])
