"""LIMO ("less is more for reasoning") on a tiny configuration, and its scaled difficulty band."""

from __future__ import annotations

import json
import math

import pytest

from reasonsift.retest.claims import pool as P
from reasonsift.retest.runner import RetestConfig, main
from reasonsift.retest.verdict import VERDICTS

KEYS = {"verdict", "rule", "effect", "ci_low", "ci_high", "seeds", "arms", "source", "attribution_note"}


def test_limo_band_scales_1_to_3_of_32():
    for k in range(1, 65):
        lo, hi = P.limo_band(k)
        # the band's upper end: the largest count c with c / k <= 3 / 32 rounded up, at least 1
        want = max(1, min(c for c in range(k + 1) if c * 32 >= 3 * k))
        assert (lo, hi) == (1, want) and hi == max(1, math.ceil(3 * k / 32))
    assert P.limo_band(32) == (1, 3) and P.limo_band(4) == (1, 1) and P.limo_band(64) == (1, 6)
    assert P.limo_band(8) != (1, 3)


def test_limo_tiny_run(tmp_path, monkeypatch):
    monkeypatch.setitem(P.POOL[True], "n_pool", 40)
    monkeypatch.setitem(P.POOL[True], "limo_k", 2)
    monkeypatch.setitem(P.POOL[True], "batch_size", 8)
    out = tmp_path / "rt"
    main(RetestConfig(claim="limo", quick=True, seeds=2, steps=2, n_test=8, out_dir=str(out)))
    e = json.loads((out / "verdicts.json").read_text())["limo"]
    assert set(e) >= KEYS and e["verdict"] in VERDICTS and e["seeds"] == [0, 1]
    assert set(e["arms"]) == {"base", "limo", "random", "full"}
    for arm in e["arms"].values():
        m = arm["metric"]
        assert len(m["per_seed"]) == 2 and m["ci_low"] <= m["mean"] <= m["ci_high"]
    a, f = e["arms"]["limo"]["metric"], e["arms"]["full"]["metric"]
    assert e["effect"] == pytest.approx(a["mean"] - f["mean"]) and (e["rule_a"], e["rule_b"]) == (
        "limo",
        "full",
    )
    stages = {st["stage"]: st for st in e["arms"]["limo"]["stages"]}
    assert list(stages) == ["quality", "difficulty", "chain", "budget"]
    assert 1 <= e["arms"]["limo"]["n_examples"] == e["arms"]["random"]["n_examples"] <= 4  # same-size control
    assert stages["budget"]["kept"] == e["arms"]["limo"]["n_examples"]
    assert e["arms"]["limo"]["band"] == "1-1 correct of 2 samples"
    assert "2502.03387" in e["source"]
