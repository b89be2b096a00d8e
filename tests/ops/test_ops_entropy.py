import pytest
import torch

from reasonsift.ops.entropy import chunked_token_stats


def _reference(hidden, weight, targets, temperature, transform=lambda z: z):
    z = transform(hidden.double() @ weight.double().T) / temperature
    p = torch.softmax(z, -1)
    logp = torch.log_softmax(z, -1)
    ent = -(p * logp).sum(-1)
    lp = logp.gather(-1, targets[:, None]).squeeze(-1)
    rank = (z > z.gather(-1, targets[:, None])).sum(-1)
    return ent, lp, rank, logp


@pytest.mark.parametrize("chunk_rows", [1, 3, 64])
@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_chunked_stats_match_float64_softmax(chunk_rows, temperature):
    torch.manual_seed(0)
    head = torch.nn.Linear(16, 50, bias=False)
    hidden = torch.randn(13, 16) * 3
    targets = torch.randint(0, 50, (13,))
    st = chunked_token_stats(hidden, head, targets, temperature=temperature, top_k=4, chunk_rows=chunk_rows)
    ent, lp, rank, logp = _reference(hidden, head.weight, targets, temperature)
    assert torch.allclose(st.entropy.double(), ent, atol=1e-5)
    assert torch.allclose(st.logprob.double(), lp, atol=1e-5)
    assert torch.equal(st.rank, rank)
    top = logp.topk(4, -1)
    assert torch.equal(st.top_ids, top.indices)
    assert torch.allclose(st.top_logprobs.double(), top.values, atol=1e-5)


def test_logits_fn_transform_applied_per_chunk():
    """Whatever ``logits_fn`` does after the head (here Gemma-style soft-capping) is what gets reduced."""
    torch.manual_seed(2)
    head = torch.nn.Linear(16, 50, bias=False)
    hidden = torch.randn(9, 16) * 3
    targets = torch.randint(0, 50, (9,))
    cap = lambda z: torch.tanh(z / 2.0) * 2.0  # noqa: E731
    st = chunked_token_stats(hidden, lambda h: cap(head(h)), targets, vocab_size=50)
    ent, lp, rank, _ = _reference(hidden, head.weight, targets, 1.0, cap)
    assert torch.allclose(st.entropy.double(), ent, atol=1e-5)
    assert torch.allclose(st.logprob.double(), lp, atol=1e-5)
    assert torch.equal(st.rank, rank)
    plain, _, _, _ = _reference(hidden, head.weight, targets, 1.0)
    assert not torch.allclose(st.entropy.double(), plain, atol=1e-2)  # the cap changed the numbers


def test_chunk_size_needs_rows_or_vocab():
    with pytest.raises(ValueError, match="chunk_rows or vocab_size"):
        chunked_token_stats(torch.zeros(2, 4), torch.nn.Linear(4, 8), torch.zeros(2, dtype=torch.long))


def test_peaked_masked_and_large_vocab_logits():
    """Near-deterministic rows (H ~ 0), masked (-inf) entries and a 150k vocabulary: finite, exact, H >= 0."""
    from reasonsift.ops.entropy import stats_from_logits

    torch.manual_seed(1)
    z = torch.randn(6, 151_936) * 4
    z[0, 7] = 80.0  # one token takes all the mass: H ~ 0 and must not go negative
    z[1, :1000] = float("-inf")  # masked vocabulary entries: p = 0, no nan
    targets = torch.tensor([7, 5000, 3, 4, 5, 6])
    st = stats_from_logits(z, targets)
    zd = z.double()
    logp = torch.log_softmax(zd, -1)
    p = logp.exp()
    ref = -torch.where(p > 0, p * logp, torch.zeros_like(p)).sum(-1)
    assert torch.isfinite(st.entropy).all() and (st.entropy >= 0).all()
    assert torch.allclose(st.entropy.double(), ref, atol=1e-5)
    assert torch.allclose(st.logprob.double(), logp.gather(-1, targets[:, None]).squeeze(-1), atol=1e-5)
