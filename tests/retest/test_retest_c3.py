"""C3 (swapped vs correct A* traces on the built-in maze) on a tiny configuration, and its metrics against
plain reference loops on hand-made replies."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from reasonsift.retest.claims import c3
from reasonsift.retest.runner import RetestConfig, main
from reasonsift.retest.verdict import INCONCLUSIVE, VERDICTS
from reasonsift.tasks import get_task
from reasonsift.tasks.corrupt import corrupt

KEYS = {"verdict", "rule", "effect", "ci_low", "ci_high", "seeds", "arms", "source", "attribution_note"}
ARMS = {"correct", "swapped", "shuffled", "none"}


def test_c3_tiny_run_writes_its_entry(tmp_path, monkeypatch):
    monkeypatch.setitem(c3.SIZES, True, {**c3.SIZES[True], "batch_size": 4, "n_train": 16})
    monkeypatch.setattr(c3, "MAX_NEW_TOKENS", 8)  # untrained models ramble: keep the tiny run short
    out = tmp_path / "rt"
    main(RetestConfig(claim="C3", quick=True, seeds=2, steps=1, n_test=4, out_dir=str(out)))
    e = json.loads((out / "verdicts.json").read_text())["C3"]
    assert set(e) >= KEYS and e["verdict"] in VERDICTS and e["seeds"] == [0, 1]
    assert set(e["arms"]) == ARMS and "2505.13775" in e["source"] and e["attribution_note"] is None
    metrics = {"trace valid (ID)", "plan and trace valid (ID)", "plan accuracy (OOD)", "trace valid (OOD)",
               "plan and trace valid (OOD)"}  # fmt: skip
    for name, arm in e["arms"].items():
        assert len(arm["metric"]["per_seed"]) == 2
        assert set(arm["metrics"]) == metrics
        for m in arm["metrics"].values():
            assert len(m["per_seed"]) == 2 and 0 <= m["mean"] <= 1
        assert arm["steps"] == 1 and arm["tokens_seen"] > 0
        assert 0 <= arm["valid_plan_invalid_trace_share_id"] <= 1, name
    # equal steps, fewer tokens without a trace; 8 tokens cannot hold a trace: no arm's trace is valid
    assert e["arms"]["none"]["tokens_seen"] < e["arms"]["correct"]["tokens_seen"]
    assert all(a["metrics"]["trace valid (ID)"]["mean"] == 0 for a in e["arms"].values())
    # the untrained-in-effect models sit at the floor: the guard makes the verdict inconclusive
    assert e["verdict"] == INCONCLUSIVE and e["ci_low"] is None and any("floor" in n for n in e["notes"])
    # the swapped arm trained on corrupted data written beside the clean file (a fresh derangement per seed)
    names = sorted(p.name for p in (out / "data").glob("c3-*.jsonl"))
    assert len(names) == 6 and any(n.endswith("-swap-c1.jsonl") for n in names)
    assert "## C3" in (out / "report.md").read_text()


def _naive_trace(reply: str) -> str:
    """The trace of a reply, by hand: between the first <think> and the last </think>."""
    close = reply.rfind("</think>")
    if close < 0:
        return reply[reply.find("<think>") + 7 :].strip() if "<think>" in reply else ""
    head = reply[:close]
    return head[head.find("<think>") + 7 :].strip() if "<think>" in head else head.strip()


def test_reply_scores_match_a_naive_loop_on_hand_made_replies():
    task = get_task("maze")
    exs = task.generate(6, seed=3, split="test", difficulty=1)
    swapped = corrupt(exs, "swap", seed=0)
    shuffled = corrupt(exs, "shuffle", seed=0)
    a, b = exs[0], exs[1]
    cases = [  # (reply, example, plan correct, trace valid)
        (f"<think>{a.trace}</think>{a.answer}", a, 1, 1),
        (f"<think>{swapped[0].trace}</think>{a.answer}", a, 1, 0),  # another maze's trace
        (f"<think>{shuffled[0].trace}</think>{a.answer}", a, 1, 0),
        (f"<think>{a.trace}</think>{b.answer}", a, 0, 1),  # valid trace, another maze's plan
        (f"<think>{a.trace}", a, 0, 1),  # cut before the plan: a whole trace, no answer
        (f"<think>{a.trace.rsplit(chr(10), 1)[0]}</think>{a.answer}", a, 1, 0),  # goal never closed
        (a.answer, a, 1, 0),  # no trace at all
        ("<think></think>", a, 0, 0),
        (f"{b.trace}</think>{b.answer}", b, 1, 1),  # the chat template's <think> left out
    ]
    replies, examples = [c[0] for c in cases], [c[1] for c in cases]
    got = c3.reply_scores(replies, examples)
    assert got.shape == (len(cases), 3)
    for (reply, ex, plan, trace), row in zip(cases, got, strict=True):
        naive_t = _naive_trace(reply)
        naive_valid = bool(naive_t) and task.check_trace(ex, naive_t).valid
        assert (row[0], row[1]) == (plan, trace) == (plan, float(naive_valid)), reply[-40:]
        assert row[2] == len(reply)
    # "both" and the share of valid plans with invalid traces, against plain loops
    both = got[:, 0] * got[:, 1]
    assert both.tolist() == [float(p and t) for _, _, p, t in cases]
    n_plan = sum(p for _, _, p, _ in cases)
    naive_share = sum(1 for _, _, p, t in cases if p and not t) / n_plan
    assert c3.plan_without_trace_share(got[:, 0], got[:, 1]) == pytest.approx(naive_share) == 4 / 6
    assert c3.plan_without_trace_share(np.zeros(3), np.zeros(3)) == 0.0
    # a plain example (no task) has no validator: NaN, not invalid
    plain = type(a)(id="x", question="q", answer="1", trace="t")
    assert math.isnan(c3.trace_valid("<think>t</think>1", plain))


def test_floor_guard_voids_the_ci_only_off_the_range():
    eff = {"diff": 0.0, "ci_low": -0.01, "ci_high": 0.02, "cohens_d": 0.0}
    mid = np.full((10, 3), 0.0)
    mid[:5] = 1.0  # mean 0.5
    assert c3.floor_guard(mid, eff) == (eff, None)
    for scores, where in ((np.zeros((10, 3)), "floor"), (np.ones((10, 3)), "ceiling")):
        got, why = c3.floor_guard(scores, eff)
        assert math.isnan(got["ci_low"]) and math.isnan(got["ci_high"]) and got["diff"] == 0.0
        assert where in why
        assert c3.SPEC.rule.decide(got["diff"], got["ci_low"], got["ci_high"]) == INCONCLUSIVE
    edge = np.zeros((20, 1))
    edge[:2] = 1.0  # exactly the floor (0.10) still counts
    assert c3.floor_guard(edge, eff)[1] is None
    # inside the range the rule decides: swapped 3 points worse with a CI above -5 points is supported
    assert c3.SPEC.rule.decide(-0.03, -0.045, -0.01) == "supported"
    assert c3.SPEC.rule.decide(-0.12, -0.2, -0.06) == "not supported"
