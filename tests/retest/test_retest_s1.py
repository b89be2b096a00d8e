"""s1 ("less is more") on a tiny configuration, and the shared pool's selection against `reasonsift select`."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from reasonsift.retest.claims import pool as P
from reasonsift.retest.runner import RetestConfig, main
from reasonsift.retest.verdict import VERDICTS
from reasonsift.select.pipeline import SelectConfig
from reasonsift.select.pipeline import main as select_main

KEYS = {"verdict", "rule", "effect", "ci_low", "ci_high", "seeds", "arms", "source", "attribution_note"}


def test_select_equals_the_select_command(tmp_path):
    cfg = RetestConfig(claim="s1", quick=True, seeds=1, n_test=8, out_dir=str(tmp_path))
    P.POOL[True]["n_pool"], old = 40, P.POOL[True]["n_pool"]
    try:
        pool = P.pool_setting(cfg, tmp_path / "s1")
    finally:
        P.POOL[True]["n_pool"] = old
    assert len(pool.examples) == 40 and pool.n == 4 and len(pool.test) == 8
    assert P.difficulty_mix(pool.examples) == {"1": 20, "2": 20}
    for seed in (0, 3):
        kept, counts = P.select(pool, "random", seed)
        ref = select_main(SelectConfig(data=str(pool.path), out_dir=str(tmp_path / f"sel{seed}"),
                                       recipe="random", budget=4, seed=seed))  # fmt: skip
        ids = pq.read_table(ref.out_dir / "selected.parquet", columns=["id"])["id"].to_pylist()
        assert sorted(e.id for e in kept) == sorted(ids) and counts == ref.stages
    assert {e.id for e in P.select(pool, "random", 0)[0]} != {e.id for e in P.select(pool, "random", 1)[0]}
    assert len(P.select(pool, "random", 0, budget=3)[0]) == 3
    with pytest.raises(ValueError, match="--eval"):
        P.select(pool, "s1", 0)  # s1's difficulty stage needs the student's eval run


def test_s1_tiny_run(tmp_path, monkeypatch):
    monkeypatch.setitem(P.POOL[True], "n_pool", 40)
    monkeypatch.setitem(P.POOL[True], "batch_size", 8)
    out = tmp_path / "rt"
    main(RetestConfig(claim="s1", quick=True, seeds=2, steps=2, n_test=8, out_dir=str(out)))
    e = json.loads((out / "verdicts.json").read_text())["s1"]
    assert set(e) >= KEYS and e["verdict"] in VERDICTS and e["seeds"] == [0, 1]
    assert set(e["arms"]) == {"base", "s1", "random", "full"}
    for arm in e["arms"].values():
        m = arm["metric"]
        assert len(m["per_seed"]) == 2 and m["ci_low"] <= m["mean"] <= m["ci_high"]
    s, f = e["arms"]["s1"]["metric"], e["arms"]["full"]["metric"]
    assert e["effect"] == pytest.approx(s["mean"] - f["mean"]) and (e["rule_a"], e["rule_b"]) == (
        "s1",
        "full",
    )
    assert e["arms"]["s1"]["n_examples"] == e["arms"]["random"]["n_examples"] == 4
    assert [st["stage"] for st in e["arms"]["s1"]["stages"]] == ["quality", "difficulty", "diversity"]
    assert e["arms"]["full"]["n_examples"] == 40 and e["arms"]["full"]["tokens_seen"] > 0
    assert "2501.19393" in e["source"] and e["attribution_note"] is None
    assert {c["a"] + "-" + c["b"] for c in e["comparisons"]} >= {"s1-random", "random-full"}
