"""IFD, r-IFD, information gain and the entropy summary against hand-built inputs with numbers worked out by
hand (in the comments), so a wrong formula (a swapped ratio, another normalisation, PPL vs NLL) fails."""

import math

import pytest
import torch

from reasonsift.ops.ifd import ifd, mean_nll, r_ifd
from reasonsift.ops.infogain import info_gain, is_posthoc
from reasonsift.ops.stats import entropy_summary, mask_overlap

LN2 = 0.6931471805599453


def logprobs(probs: list[float]) -> torch.Tensor:
    """log p of each target token, from hand-chosen probabilities."""
    return torch.tensor([math.log(p) for p in probs], dtype=torch.float64)


def test_entropy_summary_hand_checked():
    h = [0.0, 0.001, 0.005, 0.2, 0.3, 1.0, 2.0, 0.0, 0.5, 3.0]
    s = entropy_summary(torch.tensor(h))
    # sum = 7.006 over 10 tokens.
    assert s["H_mean"] == pytest.approx(0.7006)
    # Below 0.01: 0.0, 0.001, 0.005, 0.0 -> 4 of 10.
    assert s["frac_H_below_0_01"] == pytest.approx(0.4)
    # Top 20% = the 2 largest, 3.0 + 2.0 = 5.0 of 7.006.
    assert s["top20_entropy_mass"] == pytest.approx(5.0 / 7.006)
    # Sorted: 0, 0, .001, .005, .2, .3, .5, 1, 2, 3; the linear median is halfway between .2 and .3.
    assert s["H_p50"] == pytest.approx(0.25)
    assert math.isnan(entropy_summary(torch.zeros(0))["H_mean"])


def test_mean_nll_from_hand_built_probabilities():
    # p = 1/2, 1/4, 1 -> NLL ln 2, 2 ln 2, 0 -> mean ln 2 = 0.693147.
    assert mean_nll(logprobs([0.5, 0.25, 1.0])) == pytest.approx(LN2)
    # The mask picks the answer tokens only: p = 1/2, 1/8 -> (ln 2 + 3 ln 2) / 2 = 2 ln 2 = 1.386294.
    lp = logprobs([0.01, 0.5, 0.125])
    assert mean_nll(lp, torch.tensor([False, True, True])) == pytest.approx(2 * LN2)
    assert math.isnan(mean_nll(lp, torch.tensor([False, False, False])))


def test_ifd_from_per_token_nll():
    # Answer tokens given the question: p = 1/2, 1/4, 1 -> NLL ln 2, 2 ln 2, 0 -> s(A|Q) = ln 2.
    # Answer tokens alone: p = 1/4, 1/8, 1/2 -> NLL 2 ln 2, 3 ln 2, ln 2 -> s(A) = 2 ln 2.
    nll_a_given_q = [-math.log(p) for p in (0.5, 0.25, 1.0)]
    nll_a = [-math.log(p) for p in (0.25, 0.125, 0.5)]
    s_aq, s_a = sum(nll_a_given_q) / 3, sum(nll_a) / 3
    assert (s_aq, s_a) == pytest.approx((LN2, 2 * LN2))
    assert mean_nll(logprobs([0.5, 0.25, 1.0])) == pytest.approx(s_aq)
    # IFD = s(A|Q) / s(A) = ln 2 / (2 ln 2) = 0.5: the question halves the answer's loss.
    assert ifd(s_aq, s_a) == pytest.approx(0.5)
    # A question that hurts: p(A|Q) = 1/10, p(A) = 1/2 -> ln 10 / ln 2 = 3.321928 > 1 (Cherry LLM drops these).
    assert ifd(-math.log(0.1), -math.log(0.5)) == pytest.approx(3.321928, abs=1e-6)
    assert math.isnan(ifd(1.0, 0.0)) and math.isnan(ifd(math.nan, 1.0))


def test_r_ifd_is_a_ratio_of_perplexities():
    # Question tokens given the response: p = 1/2, 1/8 -> PPL = (1/2 * 1/8) ** (-1/2) = 16 ** 0.5 = 4.
    # Question tokens alone: p = 1/4, 1/4, 1/4 -> PPL = 4; then p = 1/8 each -> PPL = 8.
    def ppl(probs: list[float]) -> float:
        prod = 1.0
        for p in probs:
            prod *= p
        return prod ** (-1 / len(probs))

    q_given_a, q_plain, q_hard = [0.5, 0.125], [0.25, 0.25, 0.25], [0.125] * 3
    assert (ppl(q_given_a), ppl(q_plain), ppl(q_hard)) == pytest.approx((4.0, 4.0, 8.0))
    nll = [mean_nll(logprobs(p)) for p in (q_given_a, q_plain, q_hard)]
    assert r_ifd(nll[0], nll[1]) == pytest.approx(4.0 / 4.0)  # = 1.0: the response does not help
    assert r_ifd(nll[0], nll[2]) == pytest.approx(4.0 / 8.0)  # = 0.5: it halves the question's PPL
    assert r_ifd(nll[2], nll[0]) == pytest.approx(2.0)
    assert math.isnan(r_ifd(math.inf, 1.0))


def test_info_gain_from_an_explicit_loop_over_perplexities():
    # Perplexity of the answer after 0, 1, 2, 3 steps: 4, 2, 2.5, 1 (step 2 makes the answer less likely).
    ppl = [4.0, 2.0, 2.5, 1.0]
    nll = [math.log(x) for x in ppl]
    g = info_gain(nll)
    # InfoGain = sum_i (PPL_{i-1} - PPL_i) / (n + 1) = ((4 - 2) + (2 - 2.5) + (2.5 - 1)) / 4 = 3 / 4.
    total = 0.0
    for i in range(1, len(ppl)):
        total += ppl[i - 1] - ppl[i]
    assert total / len(ppl) == 0.75
    assert g.info_gain == pytest.approx(0.75)
    # Per-step NLL gains: ln(4/2) = 0.693147, ln(2/2.5) = -0.223144, ln(2.5/1) = 0.916291; total ln 4.
    assert g.gains == pytest.approx([0.693147, -0.223144, 0.916291], abs=1e-6)
    assert g.total == pytest.approx(2 * LN2) and g.ppl0 == pytest.approx(4.0)
    assert info_gain([1.0]).info_gain == 0.0 and info_gain([1.0]).gains == []
    with pytest.raises(ValueError, match="nll"):
        info_gain([])


def test_posthoc_rationalisation_hand_checked():
    # PPL 1.2 before any step (p ~ 0.83 per answer token) and 1.19 after: total gain ln(1.2/1.19) = 0.00837.
    g = info_gain([math.log(1.2), math.log(1.19)])
    assert g.total == pytest.approx(0.008368, abs=1e-6)
    assert is_posthoc(g.ppl0, g.total)
    # The same small gain from an unlikely start (PPL 4) is not post hoc; nor is PPL 1.2 with a real gain.
    assert not is_posthoc(4.0, g.total) and not is_posthoc(1.2, 0.1)


def test_mask_overlap():
    a = torch.tensor([1, 1, 0, 1, 0], dtype=torch.bool)
    b = torch.tensor([1, 0, 0, 1, 1], dtype=torch.bool)
    # a selects positions 0, 1, 3; b also selects 0 and 3 -> 2 of a's 3.
    assert mask_overlap(a, b) == pytest.approx(2 / 3)
    assert mask_overlap(b, a) == pytest.approx(2 / 3)  # b: 0, 3, 4 of which a has 0, 3
    assert mask_overlap(a, torch.tensor([0, 1, 0, 0, 0], dtype=torch.bool)) == pytest.approx(1 / 3)
    assert math.isnan(mask_overlap(torch.zeros(2, dtype=torch.bool), b[:2]))
