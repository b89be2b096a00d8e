from __future__ import annotations

import pytest

from reasonsift.models.tiny import TinySpec, build_tiny_model, count_parameters


def _reference_param_count(vocab: int, h: int, layers: int, inter: int) -> int:
    # Llama: embed + untied head (vocab x h each); per layer q,k,v,o (h x h), gate/up/down (h x inter),
    # two RMSNorm gains (h); a final RMSNorm (h).
    per_layer = 4 * h * h + 3 * h * inter + 2 * h
    return 2 * vocab * h + layers * per_layer + h


def test_default_model_is_a_stock_llama_of_about_a_million_params(tok):
    model = build_tiny_model(tok)
    assert type(model).__name__ == "LlamaForCausalLM"
    n = count_parameters(model)
    assert n == _reference_param_count(len(tok), 128, 4, 512)
    assert 1.0e6 < n < 1.2e6


def test_same_seed_same_init(tok):
    a, b = build_tiny_model(tok, seed=3), build_tiny_model(tok, seed=3)
    c = build_tiny_model(tok, seed=4)
    assert all((p == q).all() for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not (a.lm_head.weight == c.lm_head.weight).all()


def test_spec_validation_names_the_field():
    with pytest.raises(ValueError, match="num_heads"):
        TinySpec(hidden_size=30, num_heads=4)
    with pytest.raises(ValueError, match="num_layers"):
        TinySpec(num_layers=0)
