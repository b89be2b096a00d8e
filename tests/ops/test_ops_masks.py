import math

import pytest
import torch

from reasonsift.ops.masks import forking_mask, forking_threshold, quantile, threshold_mask


@pytest.mark.parametrize("interp", ["linear", "higher"])
@pytest.mark.parametrize("q", [0.0, 0.2, 0.5, 0.8, 0.95, 1.0])
def test_quantile_matches_torch_with_ties(interp, q):
    torch.manual_seed(0)
    v = torch.cat([torch.zeros(40), torch.rand(30), torch.full((30,), 0.5)])[torch.randperm(100)]
    assert quantile(v, q, interp) == pytest.approx(float(torch.quantile(v.double(), q, interpolation=interp)))


def test_ties_keep_every_tied_token():
    # 10 zeros, 2 ones: the 0.8 quantile (index 0.8 * 11 = 8.8) is 0 -> every token is kept (>= tau),
    # so the kept share (100%) exceeds rho when ties sit at the threshold; deterministic either way.
    h = torch.tensor([0.0] * 10 + [1.0] * 2)
    valid = torch.ones_like(h, dtype=torch.bool)
    for interp in ("linear", "higher"):
        assert forking_threshold(h, valid, 0.2, interp) == 0.0
        assert forking_mask(h[None], valid[None], 0.2, "batch", interp).all()
    # 8 zeros, 2 ones: index 7.2 -> 'linear' 0.2, 'higher' v[8] = 1.0; both keep exactly the ones.
    h = torch.tensor([0.0] * 8 + [1.0] * 2)
    assert forking_threshold(h, valid[:10], 0.2, "linear") == pytest.approx(0.2)
    assert forking_threshold(h, valid[:10], 0.2, "higher") == 1.0
    for interp in ("linear", "higher"):
        assert (
            forking_mask(h[None], valid[None, :10], 0.2, "batch", interp)[0].tolist()
            == [False] * 8 + [True] * 2
        )


def test_padding_never_enters_pool():
    h = torch.tensor([[0.1, 0.2, 0.3, 0.4, 0.5], [0.9, 0.8, 0.0, 0.0, 0.0]])
    valid = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], dtype=torch.bool)
    m1 = forking_mask(h, valid, 0.2, "batch")
    h2 = h.clone()
    h2[~valid] = 100.0  # garbage in padding must change nothing
    assert torch.equal(forking_mask(h2, valid, 0.2, "batch"), m1)
    tau = float(torch.quantile(torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.9, 0.8]).double(), 0.8))
    assert torch.equal(m1, (h.double() >= tau) & valid)
    assert not m1[~valid].any()


def test_sequence_pool_is_per_row():
    h = torch.tensor([[0.0, 1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0, 50.0]])
    valid = torch.ones_like(h, dtype=torch.bool)
    m = forking_mask(h, valid, 0.2, "sequence")
    assert m.tolist() == [[False, False, False, False, True], [False, False, False, False, True]]
    assert forking_mask(h, valid, 0.2, "batch")[0].sum() == 0


def test_rho_validation_and_empty():
    h = torch.ones(3)
    with pytest.raises(ValueError, match="rho"):
        forking_threshold(h, h.bool(), 0.0)
    assert forking_threshold(h, torch.zeros(3, dtype=torch.bool), 0.2) == math.inf
    assert threshold_mask(h, torch.tensor([True, False, True]), 1.0).tolist() == [True, False, True]
