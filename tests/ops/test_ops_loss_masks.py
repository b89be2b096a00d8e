"""Loss masks and the masked loss against plain-Python references on hand-built tensors."""

import math

import pytest
import torch

from reasonsift.ops.loss_masks import (
    bottom_mask,
    entropy_from_logits,
    forking_loss_mask,
    masked_loss,
    random_matched_mask,
)

H = torch.tensor([[0.0, 5.0, 1.0, 2.0, 3.0, 4.0, 9.0], [9.0, 9.0, 0.1, 0.2, 0.3, 0.4, 0.0]])
C = torch.tensor([[0, 1, 1, 1, 1, 1, 0], [0, 0, 1, 1, 1, 1, 1]], dtype=torch.bool)


def _ref_quantile(vals, q):
    v = sorted(vals)
    pos = q * (len(v) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def test_forking_sequence_pool_matches_reference():
    m = forking_loss_mask(H, C, rho=0.4, pool="sequence")
    for b in range(2):
        pool = [float(H[b, t]) for t in range(7) if C[b, t]]
        tau = _ref_quantile(pool, 0.6)
        want = [bool(C[b, t]) and float(H[b, t]) >= tau for t in range(7)]
        assert m[b].tolist() == want
    # row 0: completion entropies 5,1,2,3,4 -> tau = 3.4 -> keeps 5 and 4; padding (9.0) never kept
    assert m[0].tolist() == [False, True, False, False, False, True, False]


def test_forking_batch_pool_matches_reference():
    m = forking_loss_mask(H, C, rho=0.2, pool="batch")
    pool = [float(H[b, t]) for b in range(2) for t in range(7) if C[b, t]]
    tau = _ref_quantile(pool, 0.8)
    want = [[bool(C[b, t]) and float(H[b, t]) >= tau for t in range(7)] for b in range(2)]
    assert m.tolist() == want
    assert m.sum() == 2  # 5.0 and 4.0 of row 0; row 1's 9.0 are prompt positions


def test_ties_keep_all_tied_tokens():
    h = torch.zeros(1, 5)
    c = torch.ones(1, 5, dtype=torch.bool)
    assert forking_loss_mask(h, c, 0.2).sum() == 5  # as ops.masks: H >= tau with tau = 0


def test_bottom_is_complement_within_completion():
    f = forking_loss_mask(H, C, 0.4)
    b = bottom_mask(f, C)
    assert not (b & f).any()
    assert ((b | f) == C).all()


def test_random_control_matches_counts_per_row():
    f = forking_loss_mask(H, C, 0.4)
    counts = f.sum(1)
    for seed in range(20):
        r = random_matched_mask(C, counts, torch.Generator().manual_seed(seed))
        assert r.sum(1).tolist() == counts.tolist()
        assert not (r & ~C).any()
    a = random_matched_mask(C, counts, torch.Generator().manual_seed(1))
    b = random_matched_mask(C, counts, torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="counts"):
        random_matched_mask(C, torch.tensor([6, 0]))


def test_masked_loss_both_normalisers_match_plain_python():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 7, 5, generator=g)
    labels = torch.randint(0, 5, (2, 7), generator=g)
    mask = forking_loss_mask(H, C, 0.4)
    nll = []
    for b in range(2):
        for t in range(7):
            z = [float(x) for x in logits[b, t]]
            lse = math.log(sum(math.exp(x) for x in z))
            nll.append((bool(mask[b, t]), bool(C[b, t]), lse - z[int(labels[b, t])]))
    s = sum(n for m, _, n in nll if m)
    n_sel, n_comp = sum(m for m, _, _ in nll), sum(c for _, c, _ in nll)
    assert masked_loss(logits, labels, mask, C, "all").item() == pytest.approx(s / n_comp, rel=1e-5)
    assert masked_loss(logits, labels, mask, C, "selected").item() == pytest.approx(s / n_sel, rel=1e-5)
    # log-probs in place of logits give the same loss
    lp = torch.log_softmax(logits, -1)
    assert masked_loss(lp, labels, mask, C, "all").item() == pytest.approx(s / n_comp, rel=1e-5)
    with pytest.raises(ValueError, match="normalize"):
        masked_loss(logits, labels, mask, C, "tokens")


def test_entropy_from_logits():
    z = torch.tensor([[[0.0, 0.0, 0.0, 0.0], [100.0, 0.0, 0.0, 0.0]]])
    h = entropy_from_logits(z)
    assert h[0, 0].item() == pytest.approx(math.log(4))
    assert h[0, 1].item() == pytest.approx(0.0, abs=1e-6)


def _two_process_gather(other):
    """What accelerate's ``gather(pad_across_processes(x, pad_index=PAD))`` returns on a process whose peer
    holds ``other``: both padded to the longer, concatenated in rank order (this process is rank 0)."""
    from reasonsift.ops.loss_masks import PAD_ENTROPY

    def gather(local):
        n = max(len(local), len(other))
        pad = lambda t: torch.cat([t, torch.full((n - len(t),), PAD_ENTROPY)])  # noqa: E731
        return torch.cat([pad(local), pad(other.float())])

    return gather


def test_global_pool_is_the_batch_pool_over_every_process():
    # one process: the same as the batch pool
    assert torch.equal(forking_loss_mask(H, C, 0.4, "global"), forking_loss_mask(H, C, 0.4, "batch"))
    # two processes: tau from the completion tokens of both micro-batches, by hand
    H2 = torch.tensor([[7.0, 8.0, 6.5, 0.0, 0.0, 0.0, 0.0]])
    C2 = torch.tensor([[1, 1, 1, 0, 0, 0, 0]], dtype=torch.bool)
    got = forking_loss_mask(H, C, 0.4, "global", _two_process_gather(H2[C2]))
    vals = [float(x) for x in H[C]] + [float(x) for x in H2[C2]]
    tau = _ref_quantile(vals, 0.6)
    want = [[bool(C[b, t]) and float(H[b, t]) >= tau for t in range(7)] for b in range(2)]
    assert got.tolist() == want
    assert not torch.equal(got, forking_loss_mask(H, C, 0.4, "batch"))  # the peer's high entropies count
    # the peer's half of the same global pool, from its side
    peer = forking_loss_mask(H2, C2, 0.4, "global", _two_process_gather(H[C]))
    assert peer.tolist() == [[bool(C2[0, t]) and float(H2[0, t]) >= tau for t in range(7)]]
