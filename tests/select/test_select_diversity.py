"""Stage "diversity": s1 sampling checked against exact probabilities; coverage against naive references."""

import itertools
import math
import random

import numpy as np
import pytest

from reasonsift.select.base import get_stage
from reasonsift.select.diversity import kcenter_greedy, sample_rank


def rec(id_, domain, trace, **kw):
    return {"id": id_, "question": "q", "answer": "a", "trace": trace, "domain": domain, **kw}


def picks(decisions):
    """Record indices in pick order."""
    got = {d.columns["diversity_pick"]: i for i, d in enumerate(decisions) if d.keep}
    return tuple(got[k] for k in sorted(got))


def exact_sequence_probs(records, n):
    """Brute-force s1 reference: probability of every ordered sequence of n picks.

    Domain uniform among those with records left; within it, weight 2^-rank among the records left, rank 0 =
    longest trace, ties by id.
    """
    out = {}

    def walk(left, seq, p):
        if len(seq) == n:
            out[tuple(seq)] = out.get(tuple(seq), 0.0) + p
            return
        domains = sorted({records[i]["domain"] for i in left})
        for d in domains:
            ix = sorted(
                (i for i in left if records[i]["domain"] == d),
                key=lambda i: (-len(records[i]["trace"]), records[i]["id"]),
            )
            z = sum(2.0**-r for r in range(len(ix)))
            for r, i in enumerate(ix):
                walk(left - {i}, [*seq, i], p / len(domains) * 2.0**-r / z)

    walk(frozenset(range(len(records))), [], 1.0)
    return out


def test_sample_rank_is_two_to_minus_rank():
    m, runs = 5, 20000
    rng = random.Random(0)
    counts = [0] * m
    for _ in range(runs):
        counts[sample_rank(m, rng)] += 1
    z = sum(2.0**-r for r in range(m))
    for r in range(m):
        p = 2.0**-r / z
        assert abs(counts[r] / runs - p) < 4.5 * math.sqrt(p * (1 - p) / runs), (r, counts)


def test_s1_first_pick_within_a_domain_over_seeds():
    # one domain, 4 traces of distinct lengths given in scrambled order; rank 0 = longest = "d"
    records = [
        rec("a", "x", "w " * 3),
        rec("b", "x", "w " * 9),
        rec("c", "x", "w " * 1),
        rec("d", "x", "w " * 20),
    ]
    by_rank = [3, 1, 0, 2]
    stage = get_stage("diversity", mode="s1", n=1)
    runs = 4000
    counts = dict.fromkeys(range(4), 0)
    for seed in range(runs):
        (i,) = picks(stage.run(records, random.Random(seed)))
        counts[i] += 1
    z = sum(2.0**-r for r in range(4))
    for r, i in enumerate(by_rank):
        p = 2.0**-r / z
        sd = math.sqrt(p * (1 - p) / runs)
        assert abs(counts[i] / runs - p) < 4.5 * sd, (r, counts)


def test_s1_domains_uniform_and_sequences_match_brute_force():
    # domain "x" has 1 record (exhausted after its draw), "y" has 3 (one length tie, broken by id)
    records = [
        rec("y2", "y", "abcd"),
        rec("x0", "x", "ab"),
        rec("y1", "y", "abcd"),
        rec("y3", "y", "abcdefgh"),
    ]
    stage = get_stage("diversity", mode="s1", n=2)
    runs = 6000
    exact = exact_sequence_probs(records, 2)
    assert math.isclose(sum(exact.values()), 1.0)
    counts = dict.fromkeys(exact, 0)
    first_domain = {"x": 0, "y": 0}
    for seed in range(runs):
        seq = picks(stage.run(records, random.Random(seed)))
        counts[seq] += 1
        first_domain[records[seq[0]]["domain"]] += 1
    for seq, p in exact.items():
        assert abs(counts[seq] / runs - p) < 4.5 * math.sqrt(p * (1 - p) / runs) + 1e-12, (
            seq,
            p,
            counts[seq],
        )
    # domain uniformity: the first draw picks "x" half the time although it holds 1 of 4 records
    assert abs(first_domain["x"] / runs - 0.5) < 4.5 * math.sqrt(0.25 / runs)
    # tie by id: y1 (rank 1) and y2 (rank 2) have equal length; y1 is ranked first
    assert math.isclose(exact[(3, 2)] / exact[(3, 0)], 2.0)


def test_s1_decisions_deterministic_and_complete():
    records = [rec(f"r{i}", "xyz"[i % 3], "w" * (i + 1)) for i in range(12)]
    stage = get_stage("diversity", mode="s1", n=5)
    a, b = stage.run(records, random.Random(7)), stage.run(records, random.Random(7))
    assert [(d.keep, d.reason) for d in a] == [(d.keep, d.reason) for d in b]
    assert sum(d.keep for d in a) == 5 and all(d.reason for d in a)
    # n: null draws everything, keeps all, and the picks are an ordering of all records
    full = get_stage("diversity", mode="s1").run(records, random.Random(7))
    assert all(d.keep for d in full) and sorted(picks(full)) == list(range(12))
    # the rank column: 0 for the longest of each domain
    assert [d.columns["diversity_length_rank"] for d in a[-3:]] == [0, 0, 0]


def test_params_are_validated_by_name():
    for kw, name in [
        ({"mode": "x"}, "mode"),
        ({"n": 0}, "n"),
        ({"mode": "coverage"}, "n"),
        ({"length": "bytes"}, "length"),
        ({"mode": "coverage", "n": 2, "method": "pca"}, "method"),
        ({"bogus": 1}, "bogus"),
    ]:
        with pytest.raises(ValueError, match=name):
            get_stage("diversity", **kw)
    assert get_stage("diversity", mode="coverage", n=2).needs == ("embedding",)
    assert get_stage("diversity", length="n_tokens").needs == ("n_tokens",)


def naive_kcenter(points, k):
    mean = [sum(c) / len(points) for c in zip(*points, strict=True)]
    first = min(range(len(points)), key=lambda i: (math.dist(points[i], mean), i))
    chosen = [first]
    while len(chosen) < k:
        best = max(
            range(len(points)), key=lambda i: (min(math.dist(points[i], points[j]) for j in chosen), -i)
        )
        chosen.append(best)
    return chosen


def test_kcenter_matches_naive_reference():
    rng = random.Random(3)
    points = [[rng.uniform(-5, 5), rng.uniform(-5, 5), rng.uniform(-1, 1)] for _ in range(40)]
    for k in (1, 4, 9):
        assert kcenter_greedy(np.array(points), k)[0] == naive_kcenter(points, k)
    records = [rec(f"p{i}", "", "", embedding=p) for i, p in enumerate(points)]
    ds = get_stage("diversity", mode="coverage", n=4).run(records, random.Random(0))
    assert list(picks(ds)) == naive_kcenter(points, 4)


def test_kmeans_picks_one_per_cluster_nearest_its_centroid():
    centres = [(0, 0), (10, 0), (0, 10)]
    offsets = [(0.1, 0), (-0.3, 0.2), (0.2, -0.4), (0.0, 0.05)]
    points = [[cx + dx, cy + dy] for cx, cy in centres for dx, dy in offsets]
    records = [rec(f"p{i}", "", "", embedding=p) for i, p in enumerate(points)]
    ds = get_stage("diversity", mode="coverage", n=3, method="kmeans").run(records, random.Random(1))
    chosen = picks(ds)
    # the reference: per cluster, the point nearest the cluster mean
    expected = set()
    for c in range(3):
        members = list(range(4 * c, 4 * c + 4))
        mean = [sum(points[i][j] for i in members) / 4 for j in range(2)]
        expected.add(min(members, key=lambda i: math.dist(points[i], mean)))
    assert set(chosen) == expected
    assert len({ds[i].columns["diversity_cluster"] for i in chosen}) == 3
    again = get_stage("diversity", mode="coverage", n=3, method="kmeans").run(records, random.Random(1))
    assert [d.columns for d in again] == [d.columns for d in ds]


def test_coverage_without_embedding_names_the_record_and_the_helper():
    with pytest.raises(ValueError, match=r"'r0'.*mean_hidden_states"):
        get_stage("diversity", mode="coverage", n=1).run([rec("r0", "", "")], random.Random(0))


def test_missing_token_counts_are_named():
    import pandas as pd

    for v in (None, float("nan"), pd.NA):
        with pytest.raises(ValueError, match=r"n_tokens: record 'r1'"):
            get_stage("diversity", length="n_tokens").run(
                [rec("r0", "", "", n_tokens=3), rec("r1", "", "", n_tokens=v)], random.Random(0)
            )
    for v in (None, pd.NA):
        with pytest.raises(ValueError, match=r"'r0'.*mean_hidden_states"):
            get_stage("diversity", mode="coverage", n=1).run(
                [rec("r0", "", "", embedding=v)], random.Random(0)
            )


def test_exact_reference_sums_over_all_orders():
    records = [rec("a", "x", "1"), rec("b", "y", "22"), rec("c", "y", "333")]
    exact = exact_sequence_probs(records, 3)
    assert set(exact) == set(itertools.permutations(range(3)))
    assert math.isclose(sum(exact.values()), 1.0)
