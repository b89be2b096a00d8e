"""random against the plain reference random.Random(seed).sample."""

import random

import pytest

from reasonsift.select.base import get_stage

RECS = [{"id": f"r{i}"} for i in range(50)]


@pytest.mark.parametrize("seed", [0, 1, 17])
def test_is_random_sample_of_the_seed(seed):
    ds = get_stage("random", n=10, seed=seed).run(RECS, random.Random(999))
    ref = random.Random(seed).sample(range(len(RECS)), 10)
    assert {i for i, d in enumerate(ds) if d.keep} == set(ref)
    assert [ds[i].columns["random_draw"] for i in ref] == list(range(1, 11))
    assert all(d.reason for d in ds)


def test_uses_pipeline_rng_without_seed_and_keeps_all_when_short():
    a = get_stage("random", n=5).run(RECS, random.Random(3))
    assert {i for i, d in enumerate(a) if d.keep} == set(random.Random(3).sample(range(50), 5))
    assert all(d.keep for d in get_stage("random", n=100).run(RECS[:4], random.Random(0)))


def test_uniform_over_many_seeds():
    counts = [0] * 10
    for s in range(2000):
        for i, d in enumerate(get_stage("random", n=3, seed=s).run(RECS[:10], random.Random(0))):
            counts[i] += d.keep
    # each record is drawn with probability 3/10: 600 of 2000; binomial sd ~20.5, allow 5 sd
    assert all(abs(c - 600) < 103 for c in counts), counts


@pytest.mark.parametrize("bad,param", [({}, "n"), ({"n": 0}, "n"), ({"n": 2, "seed": "x"}, "seed")])
def test_invalid_params_name_the_param(bad, param):
    with pytest.raises(ValueError, match=param):
        get_stage("random", **bad)
