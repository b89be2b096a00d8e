"""The stage registry: every name constructs, declares its columns, and is deterministic for a seed."""

import random

import pytest

from reasonsift.select import base
from reasonsift.select.base import Decision, Stage, get_stage

# Stages of this file's owner (selA); the required parameter of each, where it has one (documented in
# docs/select-stages-a.md). Other stages register themselves the same way.
NAMES = ("dedup", "quality", "difficulty", "ifd", "forking", "budget", "random")
REQUIRED = {"budget": {"n": 3}, "random": {"n": 3}}


def pool():
    recs = []
    for i in range(12):
        recs.append(
            {
                "id": f"e{i:02d}",
                "question": f"question number {i % 9} about a train and a station",
                "trace": "step one; step two",
                "answer": str(i),
                "meta": {},
                "solve_rate": (i % 5) / 4,
                "correct": i % 5,
                "n": 32,
                "ifd": 0.1 * (i % 7) + 0.3,
                "r_ifd": 0.05 * i,
                "forking_share_trace": 0.1 * (i % 4),
                "entropy_mass_trace": float(i % 3),
                "top20_entropy_mass": 0.5,
                "n_tokens": 5 + i,
            }
        )
    return recs


@pytest.mark.parametrize("name", NAMES)
def test_every_stage_constructs_and_runs(name):
    stage = get_stage(name, **REQUIRED.get(name, {}))
    assert isinstance(stage, Stage) and stage.name == name and base.STAGES[name] is type(stage)
    recs = pool()
    assert all(c in recs[0] for c in stage.needs)
    ds = stage.run(recs, random.Random(0))
    assert len(ds) == len(recs) and all(isinstance(d, Decision) and d.reason for d in ds)
    # every decision of a stage carries the same columns (one table per stage in the outputs)
    assert len({tuple(sorted(d.columns)) for d in ds}) == 1


@pytest.mark.parametrize("name", ("budget", "random"))
def test_required_param_is_named(name):
    with pytest.raises(ValueError, match="n"):
        get_stage(name)


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_for_a_seed(name):
    stage = get_stage(name, **REQUIRED.get(name, {}))
    a = stage.run(pool(), random.Random(7))
    b = get_stage(name, **REQUIRED.get(name, {})).run(pool(), random.Random(7))
    assert a == b


def test_seed_changes_the_random_choices():
    keeps = {tuple(d.keep for d in get_stage("random", n=3).run(pool(), random.Random(s))) for s in range(5)}
    assert len(keeps) > 1


def test_unknown_stage_and_param():
    with pytest.raises(ValueError, match="unknown stage 'nope'"):
        get_stage("nope")
    with pytest.raises(ValueError, match="unknown parameter"):
        get_stage("ifd", fractoin=0.1)


def test_decision_needs_a_reason():
    with pytest.raises(ValueError, match="reason"):
        Decision(True, " ")


def test_column_providers():
    assert base.run_for_column("ifd") == "--profile" and base.run_for_column("solve_rate") == "--eval"
    assert base.run_for_column("embedding") is None


def test_numpy_and_pandas_values():
    # Readers hand back numpy scalars (profile columns are float32) and pandas nulls: same decisions.
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    from reasonsift.select.values import fmt, is_null

    assert is_null(np.float32("nan")) and is_null(pd.NA) and is_null(float("nan")) and not is_null(0.0)
    assert fmt(np.float32(0.82)) == "0.82" and fmt(np.int64(3)) == "3"
    plain = pool()
    typed = [{**r, "ifd": np.float32(r["ifd"]), "r_ifd": np.float32("nan")} for r in plain]
    for r in (plain[0], typed[0]):
        r["ifd"] = None if r is plain[0] else pd.NA
    a = get_stage("ifd", fraction=0.5).run(plain, random.Random(0))
    b = get_stage("ifd", fraction=0.5).run(typed, random.Random(0))
    assert [d.keep for d in a] == [d.keep for d in b] and a[0].reason == b[
        0
    ].reason == "ifd null (not computed)"
