import math

import pytest
import torch

from reasonsift.ops.ifd import ifd, mean_nll, r_ifd
from reasonsift.ops.infogain import info_gain, is_posthoc
from reasonsift.ops.stats import entropy_summary, mask_overlap


def test_entropy_summary_against_naive():
    h = [0.0, 0.001, 0.005, 0.2, 0.3, 1.0, 2.0, 0.0, 0.5, 3.0]
    s = entropy_summary(torch.tensor(h))
    srt = sorted(h, reverse=True)
    assert s["H_mean"] == pytest.approx(sum(h) / len(h))
    assert s["frac_H_below_0_01"] == pytest.approx(4 / 10)
    assert s["top20_entropy_mass"] == pytest.approx((srt[0] + srt[1]) / sum(h))
    assert s["H_p50"] == pytest.approx(float(torch.quantile(torch.tensor(h).double(), 0.5)))
    assert math.isnan(entropy_summary(torch.zeros(0))["H_mean"])


def test_ifd_and_rifd():
    lp = torch.tensor([-1.0, -2.0, -3.0])
    assert mean_nll(lp) == pytest.approx(2.0)
    assert mean_nll(lp, torch.tensor([True, False, True])) == pytest.approx(2.0)
    assert mean_nll(lp, torch.tensor([False, True, False])) == pytest.approx(2.0)
    assert ifd(1.0, 2.0) == 0.5
    assert math.isnan(ifd(1.0, 0.0))
    assert r_ifd(1.5, 1.0) == pytest.approx(math.exp(1.5) / math.exp(1.0))


def test_info_gain_definition():
    nll = [2.0, 1.5, 1.6, 0.5]
    g = info_gain(nll)
    ppl = [math.exp(x) for x in nll]
    assert g.gains == pytest.approx([0.5, -0.1, 1.1])
    assert g.total == pytest.approx(1.5)
    assert g.info_gain == pytest.approx(sum(ppl[i - 1] - ppl[i] for i in range(1, 4)) / 4)
    assert info_gain([1.0]).info_gain == 0.0
    assert is_posthoc(1.1, 0.01) and not is_posthoc(1.1, 0.5) and not is_posthoc(3.0, 0.0)


def test_mask_overlap():
    a = torch.tensor([1, 1, 0, 1, 0], dtype=torch.bool)
    b = torch.tensor([1, 0, 0, 1, 1], dtype=torch.bool)
    assert mask_overlap(a, b) == pytest.approx(2 / 3)
    assert math.isnan(mask_overlap(torch.zeros(2, dtype=torch.bool), b[:2]))
