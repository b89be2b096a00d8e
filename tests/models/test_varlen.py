"""reasonsift.models.varlen against a plain per-query loop: each query attends to the keys of its own packed
sequence, at or before it (and within the window), with an optional soft-cap; grouped-query heads shared."""

from __future__ import annotations

import math

import pytest
import torch
import transformers as T

from reasonsift.models.varlen import NAME, packed_attention, segments, varlen_attention_forward


class _Layer(torch.nn.Module):
    training = False


def _naive(q, k, v, pos, scale, window=None, softcap=None):
    """float64, one query at a time: the keys j <= i of the same segment (window: i - j < window)."""
    b, hq, n, d = q.shape
    groups = hq // k.shape[1]
    out = torch.zeros(b, n, hq, d, dtype=torch.float64)
    for r in range(b):
        seg = [0] * n
        for t in range(1, n):
            seg[t] = seg[t - 1] + (int(pos[r, t]) != int(pos[r, t - 1]) + 1)
        for h in range(hq):
            for i in range(n):
                keys = [j for j in range(i + 1) if seg[j] == seg[i] and (window is None or i - j < window)]
                s = torch.stack([q[r, h, i].double() @ k[r, h // groups, j].double() for j in keys]) * scale
                if softcap is not None:
                    s = torch.tanh(s / softcap) * softcap
                w = torch.softmax(s, 0)
                out[r, i, h] = sum(w[x] * v[r, h // groups, j].double() for x, j in enumerate(keys))
    return out


def test_segments():
    assert segments(torch.tensor([0, 1, 2, 0, 1, 0])) == [(0, 3), (3, 5), (5, 6)]
    assert segments(torch.tensor([5, 6, 7])) == [(0, 3)]
    assert segments(torch.tensor([0, 0, 0])) == [(0, 1), (1, 2), (2, 3)]
    assert segments(torch.tensor([], dtype=torch.long)) == []


@pytest.mark.parametrize(
    "window,softcap",
    [(None, None), (3, None), (None, 2.0), (2, 5.0)],
    ids=["plain", "window", "softcap", "both"],
)
def test_matches_naive_reference(window, softcap):
    g = torch.Generator().manual_seed(0)
    b, hq, hkv, n, d = 2, 4, 2, 11, 8
    q, k, v = (torch.randn(b, h, n, d, generator=g) for h in (hq, hkv, hkv))
    pos = torch.tensor([[0, 1, 2, 3, 0, 1, 0, 1, 2, 0, 1], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]])
    scale = 1 / math.sqrt(d)
    got, _ = varlen_attention_forward(
        _Layer(), q, k, v, None, scaling=scale, sliding_window=window, softcap=softcap, position_ids=pos
    )
    assert got.shape == (b, n, hq, d)
    torch.testing.assert_close(
        got.double(), _naive(q, k, v, pos, scale, window, softcap), atol=1e-5, rtol=1e-5
    )
    # a dense causal pass over the row would let the second sequence see the first: not what we compute
    dense = torch.nn.functional.scaled_dot_product_attention(
        q, k.repeat_interleave(2, 1), v.repeat_interleave(2, 1), is_causal=True
    ).transpose(1, 2)
    if window is None and softcap is None:
        assert not torch.allclose(got[0, 4:], dense[0, 4:], atol=1e-3)
        torch.testing.assert_close(got[1], dense[1])  # one sequence: the same as plain causal attention


def test_refuses_what_it_cannot_compute_exactly():
    q = torch.randn(1, 2, 4, 8)
    with pytest.raises(ValueError, match="does not pass position_ids"):
        varlen_attention_forward(_Layer(), q, q, q, None)
    with pytest.raises(ValueError, match="built an attention mask"):
        varlen_attention_forward(
            _Layer(), q, q, q, torch.ones(1, 1, 4, 4), position_ids=torch.arange(4)[None]
        )


def test_packed_attention_switches_and_restores():
    cfg = T.LlamaConfig(vocab_size=16, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=16)  # fmt: skip
    model = T.LlamaForCausalLM(cfg).eval()
    impl = model.config._attn_implementation
    with packed_attention(model):
        assert model.config._attn_implementation == NAME
    assert model.config._attn_implementation == impl
    with pytest.raises(RuntimeError, match="boom"), packed_attention(model):
        raise RuntimeError("boom")
    assert model.config._attn_implementation == impl
    model.config._attn_implementation = "flash_attention_2"  # already variable-length: left alone
    with packed_attention(model):
        assert model.config._attn_implementation == "flash_attention_2"
