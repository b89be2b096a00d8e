import numpy as np
import pytest
import torch

from reasonsift.profile.scoring import (
    DEFAULT_PACK_LENGTH,
    Request,
    Scorer,
    make_batches,
    make_packs,
    pack_capacity,
)


def _naive(model, ids, start):
    """Full logits in float64; entropy/logprob/rank of token t from the output at position t - 1."""
    with torch.no_grad():
        z = model(torch.tensor([ids])).logits[0].double()
    logp = torch.log_softmax(z, -1)
    ent = -(logp.exp() * logp).sum(-1)
    t = torch.arange(start, len(ids))
    tgt = torch.tensor(ids)[t]
    zz = z[t - 1]
    rank = (zz > zz.gather(-1, tgt[:, None])).sum(-1)
    return ent[t - 1].numpy(), logp[t - 1, tgt].numpy(), rank.numpy()


def _reqs(tok):
    texts = [
        "<|user|>12+5<|assistant|><think>12+5=17</think>17</s>",
        "<|user|>1<|assistant|>1</s>",
        "<|user|>99-3-4",
    ]
    out = []
    for i, t in enumerate(texts * 3):
        ids = tok(t, add_special_tokens=False)["input_ids"]
        out.append(Request(ids, 1 + (i % 4)))
    return out


def test_alignment_and_padding_against_full_logits(model, tok):
    reqs = _reqs(tok)
    run = Scorer(model, tok.pad_token_id, chunk_rows=7).score(reqs, top_k=3, batch_size=16)
    assert len(run.batches) == 1  # mixed lengths padded together
    for r, sc in zip(reqs, run.scores, strict=True):
        ent, lp, rank = _naive(model, r.input_ids, r.score_start)
        assert len(sc.entropy) == len(r.input_ids) - r.score_start
        np.testing.assert_allclose(sc.entropy, ent, atol=1e-5)
        np.testing.assert_allclose(sc.logprob, lp, atol=1e-5)
        np.testing.assert_array_equal(sc.rank, rank)
        # the off-by-one a correct implementation must not make: entropy of position t, not t - 1
        with torch.no_grad():
            z = model(torch.tensor([r.input_ids])).logits[0].double()
        lz = torch.log_softmax(z, -1)
        wrong = (-(lz.exp() * lz).sum(-1))[r.score_start :].numpy()
        assert not np.allclose(sc.entropy, wrong, atol=1e-3)


def test_batch_size_invariance(model, tok):
    reqs = _reqs(tok)
    s = Scorer(model, tok.pad_token_id)
    a = s.score(reqs, batch_size=1).scores
    b = s.score(reqs, batch_size=16).scores
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x.entropy, y.entropy, atol=1e-5)
        np.testing.assert_allclose(x.logprob, y.logprob, atol=1e-5)


def test_make_batches_sorted_and_bounded():
    lengths = [5, 9, 3, 9, 7, 1]
    b = make_batches(lengths, batch_size=2, max_tokens=100)
    assert b == [[1, 3], [4, 0], [2, 5]]
    b = make_batches(lengths, batch_size=10, max_tokens=20)
    assert all(len(x) * lengths[x[0]] <= 20 for x in b)
    assert sorted(i for x in b for i in x) == list(range(6))


def _make_packs_naive(lengths, capacity):
    """First-fit decreasing written out: every request, longest first, into the first row with room."""
    rows, used = [], []
    for i in sorted(range(len(lengths)), key=lambda i: (-lengths[i], i)):
        for r in range(len(rows)):
            if used[r] + lengths[i] <= max(capacity, lengths[rows[r][0]]):
                rows[r].append(i)
                used[r] += lengths[i]
                break
        else:
            rows.append([i])
            used.append(lengths[i])
    return rows


def test_make_packs_first_fit_decreasing():
    assert make_packs([5, 9, 3, 9, 7, 1], capacity=10) == [[1, 5], [3], [4, 2], [0]]
    assert make_packs([30, 4], capacity=10) == [[0], [1]]  # longer than a row: a row of its own
    rng = np.random.default_rng(0)
    for _ in range(50):
        lengths = rng.integers(1, 40, rng.integers(1, 30)).tolist()
        cap = int(rng.integers(1, 60))
        rows = make_packs(lengths, cap)
        assert rows == _make_packs_naive(lengths, cap)
        assert sorted(i for r in rows for i in r) == list(range(len(lengths)))  # each request once
        assert all(len(r) == 1 or sum(lengths[i] for i in r) <= cap for r in rows)


def test_pack_capacity():
    assert pack_capacity(16384, 300) == 300
    assert pack_capacity(16384) == DEFAULT_PACK_LENGTH == 4096
    assert pack_capacity(1000) == 1000  # never above the pass budget


@pytest.mark.parametrize("pack_length", [None, 8, 20])
def test_packing_matches_padded(model, tok, pack_length):
    reqs = _reqs(tok)
    padded = Scorer(model, tok.pad_token_id).score(reqs, top_k=3)
    s = Scorer(model, tok.pad_token_id, packing=True, pack_length=pack_length)
    packed = s.score(reqs, top_k=3, batch_size=2)
    assert packed.tokens == padded.tokens
    assert packed.padded_tokens < padded.padded_tokens  # packing leaves less padding
    assert sorted(i for b in packed.batches for i in b) == list(range(len(reqs)))
    # fp32 rounding only (another attention length, another summation order): the float64 reference checks
    # in test_architectures.py hold packed scores to 2e-4 of the exact values
    for x, y in zip(padded.scores, packed.scores, strict=True):
        np.testing.assert_allclose(x.entropy, y.entropy, atol=5e-5)
        np.testing.assert_allclose(x.logprob, y.logprob, atol=5e-5)
        np.testing.assert_array_equal(x.rank, y.rank)
        np.testing.assert_array_equal(x.top_ids, y.top_ids)
    lp = s.score(reqs, logprob_only=True).scores
    for x, y in zip(padded.scores, lp, strict=True):
        np.testing.assert_allclose(x.logprob, y.logprob, atol=5e-5)
