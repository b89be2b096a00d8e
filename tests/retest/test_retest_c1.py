"""The re-test lab end to end on a tiny configuration of C1, and the report's files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reasonsift.retest.report import markdown, page
from reasonsift.retest.runner import RetestConfig, main, verdict_entry
from reasonsift.retest.spec import get_spec
from reasonsift.retest.verdict import VERDICTS

KEYS = {"verdict", "rule", "effect", "ci_low", "ci_high", "seeds", "arms", "source", "attribution_note"}


def test_c1_tiny_run_writes_verdicts_and_reports(tmp_path):
    out = tmp_path / "rt"
    verdicts = main(RetestConfig(claim="C1", quick=True, seeds=2, steps=2, n_test=8, out_dir=str(out)))
    saved = json.loads((out / "verdicts.json").read_text())
    assert set(saved) == {"C1"} and saved == json.loads(json.dumps(saved))
    e = saved["C1"]
    assert set(e) >= KEYS and e["verdict"] in VERDICTS and e["seeds"] == [0, 1]
    assert set(e["arms"]) == {"base", "completion", "forking", "bottom", "random"}
    for arm in e["arms"].values():
        m = arm["metric"]
        assert len(m["per_seed"]) == 2 and m["ci_low"] <= m["mean"] <= m["ci_high"]
    # the rule's numbers are the paired difference of the two arms' scores
    f, c = e["arms"]["forking"]["metric"], e["arms"]["completion"]["metric"]
    assert e["effect"] == pytest.approx(f["mean"] - c["mean"])
    assert e["arms"]["random"]["tokens_in_loss"] == e["arms"]["forking"]["tokens_in_loss"]  # matched count
    assert e["arms"]["forking"]["tokens_in_loss"] < e["arms"]["completion"]["tokens_in_loss"]
    assert 0 <= e["arms"]["forking"]["top20_overlap_with_start"] <= 1
    assert "2506.01939" in e["source"] and e["attribution_note"]
    assert verdicts["C1"]["verdict"] == e["verdict"]
    md = (out / "report.md").read_text()
    assert "## C1" in md and e["verdict"] in md
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "<script" not in html
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stage"] == "retest" and any(
        "/data/arith-train-" in i["path"] and i["sha256"] for i in manifest["inputs"]
    )
    with pytest.raises(ValueError, match="out_dir"):
        main(RetestConfig(claim="C1", out_dir=str(out)))  # a run is there: --overwrite


def test_verdict_entry_decides_by_the_rule_and_the_report_escapes_text():
    spec = get_spec("c1")
    rng = np.random.default_rng(0)
    comp = (rng.random((300, 3)) < 0.5).astype(float)
    scores = {
        "base": comp * 0,
        "completion": comp,
        "forking": comp.copy(),
        "bottom": comp,
        "random": comp * 0,
    }
    e = verdict_entry(spec, scores, {}, ["a <b>note</b>"], [0, 1, 2])
    assert (
        e["effect"] == 0 and e["verdict"] == "supported"
    )  # identical arms: CI [0, 0] inside [-3, +3] points
    worse = verdict_entry(spec, {**scores, "forking": comp * 0}, {}, [], [0, 1, 2])
    assert worse["verdict"] == "not supported"
    html = page({"C1": e}, {"inputs": [{"path": "<x>", "sha256": "1"}]})
    assert "a &lt;b&gt;note&lt;/b&gt;" in html and "<b>note</b>" not in html and "&lt;x&gt;" in html
    assert "Not run here: C2" in markdown({"C1": e}, {})
    with pytest.raises(ValueError, match="same questions"):
        verdict_entry(spec, {**scores, "forking": comp[:10]}, {}, [], [0])


def test_config_errors():
    with pytest.raises(ValueError, match="^claim: unknown"):
        RetestConfig(claim="C42")
    with pytest.raises(ValueError, match="^claim: unknown 'C42'"):
        RetestConfig(claim="C1,C42")
    assert RetestConfig(claim="C1, c2").claims() == ["C1", "c2"]
    with pytest.raises(ValueError, match="^seeds:"):
        RetestConfig(seeds=0)
    with pytest.raises(ValueError, match="^test_data:"):
        RetestConfig(test_data="t.jsonl")
