"""C2, C5, C6 and C8 on tiny configurations: their entries, the runs they share, and their metrics against
plain references."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reasonsift.retest.claims import c5, c8
from reasonsift.retest.claims.c8 import gain_transfer
from reasonsift.retest.common import ARMS_DIR
from reasonsift.retest.runner import RetestConfig, main
from reasonsift.retest.verdict import VERDICTS

TINY = {"quick": True, "seeds": 2, "steps": 2, "n_test": 8}


def test_c2_tiny_run(tmp_path):
    out = tmp_path / "rt"
    e = main(RetestConfig(claim="C2", out_dir=str(out), **TINY))["C2"]
    assert e["verdict"] in VERDICTS and e["rule_a"] == "base_pass@k" and e["rule_b"] == "trained"
    assert set(e["arms"]) == {"base", "trained", "base_pass@k", "hybrid_forking"}
    assert e["arms"]["base_pass@k"]["k"] == 8
    h = e["arms"]["hybrid_forking"]
    assert 0 <= h["fraction_steered"] <= 1 and h["tau_nats"] >= 0
    assert 0 <= e["arms"]["trained"]["fraction_steered_if_steering_everywhere"] <= 1
    # the trained arm is C1's completion arm: one run per seed under RUN/arms, named so C1 reuses it
    assert sorted(p.name.split("-s")[0] for p in (out / ARMS_DIR).glob("sft-*")) == ["sft-completion"] * 2
    assert "2504.09858" in e["attribution_note"] and "2510.07364" in e["source"]


def naive_transfer(base_id, arm_id, base_held, arm_held) -> float:
    gid = sum(
        sum(a - b for a, b in zip(ra, rb, strict=True)) / len(ra)
        for ra, rb in zip(arm_id, base_id, strict=True)
    )
    gh = sum(
        sum(a - b for a, b in zip(ra, rb, strict=True)) / len(ra)
        for ra, rb in zip(arm_held, base_held, strict=True)
    )
    return gh / len(arm_held) - gid / len(arm_id)


def test_gain_transfer_against_a_plain_loop():
    rng = np.random.default_rng(1)
    b1, a1 = ((rng.random((40, 3)) < p).astype(float) for p in (0.3, 0.6))
    b2, a2 = ((rng.random((50, 3)) < p).astype(float) for p in (0.5, 0.55))
    r = gain_transfer(b1, a1, b2, a2)
    assert r["diff"] == pytest.approx(naive_transfer(b1.tolist(), a1.tolist(), b2.tolist(), a2.tolist()))
    assert r["ci_low"] <= r["diff"] <= r["ci_high"]
    same = gain_transfer(b1, a1, b1, a1)  # the same gain on both sets: zero difference
    assert same["diff"] == 0 and same["ci_low"] < 0 < same["ci_high"]
    # a gain that does not transfer at all is far below zero
    none = gain_transfer(b1 * 0, b1 * 0 + 1, b2, b2)
    assert none["diff"] == -1 and none["ci_high"] == -1


def test_c5_and_c8_share_their_runs(tmp_path):
    cfg = RetestConfig(claim="all", out_dir=str(tmp_path), **TINY)
    r5 = c5.SPEC.run(cfg, tmp_path / "C5")
    runs = sorted(p.name for p in (tmp_path / ARMS_DIR).glob("sft-*"))
    assert [r.split("-s")[0] for r in runs] == ["sft-completion"] * 2 + ["sft-lora"] * 2
    r8 = c8.SPEC.run(cfg, tmp_path / "C8")
    assert sorted(p.name for p in (tmp_path / ARMS_DIR).glob("sft-*")) == runs  # nothing trained again
    for arm in ("base", "full", "lora"):
        np.testing.assert_array_equal(r5.scores[arm], r8.scores[arm])
    held = r8.metrics[c5.HELD_OUT]
    assert r8.effect["diff"] == pytest.approx(
        naive_transfer(r8.scores["base"], r8.scores["lora"], held["base"], held["lora"])
    )
    lora, full = r5.facts["lora"], r5.facts["full"]
    assert lora["trainable_parameters"] < full["trainable_parameters"]
    assert lora["lr"] == pytest.approx(10 * full["lr"])
    assert json.loads((tmp_path / ARMS_DIR / runs[2] / "arm.json").read_text())["lora"] is True


def test_c8_on_user_data_needs_a_held_out_domain(tmp_path):
    from reasonsift.data.io import write_examples
    from reasonsift.retest.common import task_examples

    data = tmp_path / "d.jsonl"
    write_examples(task_examples("arith", 20, (2,), split="train"), data)
    cfg = RetestConfig(claim="C8", data=str(data), out_dir=str(tmp_path / "rt"), **TINY)
    with pytest.raises(ValueError, match="^test_data: C8 needs --test-data"):
        c8.SPEC.run(cfg, tmp_path / "rt" / "C8")


def test_c6_tiny_run(tmp_path):
    e = main(RetestConfig(claim="C6", out_dir=str(tmp_path / "rt"), **(TINY | {"seeds": 1})))["C6"]
    assert e["verdict"] in VERDICTS and set(e["arms"]) == {"base", "trained"}
    base, trained = e["arms"]["base"], e["arms"]["trained"]
    # the rule's metric is information gain over the base model's mean |information gain|
    for arm in (base, trained):
        assert arm["metric"]["mean"] == pytest.approx(arm["mean_info_gain"] / base["scale"], rel=1e-9)
    assert base["scale"] > 0 and 2 <= base["scored_questions"] == e["n_questions"] <= 8
    assert e["effect"] == pytest.approx(trained["metric"]["mean"] - base["metric"]["mean"])
    assert "held-out accuracy" in base["metrics"] and "2506.02126" in e["source"]
