"""C4 (format vs domain): the strategy measure and the d-of-groups effect against naive references, and a tiny
end-to-end run."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from reasonsift.evaluate.metrics import cohens_d
from reasonsift.retest.claims import c4
from reasonsift.retest.runner import RetestConfig, main
from reasonsift.retest.verdict import VERDICTS

KEYS = {"verdict", "rule", "effect", "ci_low", "ci_high", "seeds", "arms", "source", "attribution_note"}
CELLS = {f"{d}-{f}" for d in ("arith", "logic", "maze") for f in ("mc", "ff")}


# -- naive references -----------------------------------------------------------------------------------------


def naive_strategy(reply: str) -> tuple[int, int]:
    """Character by character: the trace, its steps (cut at newline and ';'), and in each step every
    'option' that starts a word, then whitespace, then one capital letter that ends the word."""
    if "</think>" in reply:
        end = len(reply) - 1
        while reply[end - 7 : end + 1] != "</think>":
            end -= 1
        body = reply[: end - 7]
        k = body.find("<think>")
        trace = body[k + 7 :] if k >= 0 else body
    else:
        k = reply.find("<think>")
        trace = reply[k + 7 :] if k >= 0 else ""
    steps, cur = [], ""
    for ch in trace + "\n":
        if ch in "\n;":
            if cur.strip():
                steps.append(cur.strip())
            cur = ""
        else:
            cur += ch
    letters, depth = set(), 0
    for s in steps:
        found = []
        for i in range(len(s)):
            if s[i : i + 6] != "option" or (i > 0 and (s[i - 1].isalnum() or s[i - 1] == "_")):
                continue
            j = i + 6
            if j >= len(s) or not s[j].isspace():
                continue
            while j < len(s) and s[j].isspace():
                j += 1
            if (
                j < len(s)
                and "A" <= s[j] <= "Z"
                and (j + 1 == len(s) or not (s[j + 1].isalnum() or s[j + 1] == "_"))
            ):
                found.append(s[j])
        if found:
            letters.update(found)
        else:
            depth += 1
    return len(letters), depth


def naive_format_vs_domain(values, formats, domains):
    fs, ds = sorted(set(formats)), sorted(set(domains))

    def group(key, labels):
        return [v for v, g in zip(values, labels, strict=True) if g == key]

    d_f = abs(cohens_d(group(fs[0], formats), group(fs[1], formats)))
    d_d = max(abs(cohens_d(group(a, domains), group(b, domains))) for a, b in itertools.combinations(ds, 2))
    return d_f, d_d, d_f - d_d


REPLIES = [
    "<think>27-40=-13;-13+88=75;75-10=65\n65 is option B</think>B",  # MC arith: 1 candidate, depth 3
    "<think>27-40=-13;-13+88=75;75-10=65</think>65",  # FF arith: a chain of 3
    "<think>Every a is b, so X is b.\nred is option A\nblue is option C\nred is option A</think>A",  # 2, 1
    "<think>A is option A or option C; x</think>",  # two letters in one step: 2, depth 1
    "<think>options A\nadoption B\noption b\noption AB\noption_C\ncreate 0 0 1 2</think>",  # none counts: 0, 6
    "<think>option\tD;option  E\n\n;;</think>",  # whitespace of any width: 2, 0
    "65",  # an answer only: no trace
    "<think>27-40=-13;-13+8",  # cut at the budget: the trace so far
    "</think>B",  # a close tag alone: empty trace
    "x is option Z</think>option Q",  # no open tag: the text before </think>
    "<think>a</think>b</think>c",  # the last close tag ends the trace
]


@pytest.mark.parametrize("reply", REPLIES)
def test_strategy_matches_a_naive_loop(reply):
    assert c4.strategy(reply) == naive_strategy(reply)


def test_strategy_on_hand_made_traces():
    got = [c4.strategy(r) for r in REPLIES]
    assert got == [(1, 3), (0, 3), (2, 1), (2, 1), (0, 6), (2, 0), (0, 0), (0, 2), (0, 0), (1, 0), (0, 1)]
    assert c4.breadth_share(1, 3) == 0.25 and c4.breadth_share(0, 0) == 0.0 and c4.breadth_share(2, 0) == 1.0


def test_chain_valid_drops_the_option_line_and_checks_the_chain():
    from reasonsift.retest.common import task_examples

    mc, ff = task_examples("arith", 1, (1,), fmt="multiple_choice")[0], task_examples("arith", 1, (1,))[0]
    assert c4.chain_valid(mc, f"<think>{mc.trace}</think>{mc.answer}") == 1.0
    assert c4.chain_valid(ff, f"<think>{ff.trace}</think>{ff.answer}") == 1.0
    broken = ff.trace.replace("=", "=1", 1)
    assert c4.chain_valid(ff, f"<think>{broken}</think>") == 0.0  # a wrong step
    assert c4.chain_valid(mc, f"<think>{mc.trace.splitlines()[-1]}</think>") == 0.0  # only the option line
    assert c4.chain_valid(ff, "65") == 0.0
    from reasonsift.data.example import Example

    assert math.isnan(c4.chain_valid(Example("u", "q", "a"), "<think>x</think>a"))


def test_format_vs_domain_matches_naive_cohens_d():
    rng = np.random.default_rng(0)
    formats = ["mc", "ff"] * 9
    domains = [d for d in ("a", "l", "m") for _ in range(6)]
    for shift_f, shift_d in ((1.0, 0.0), (0.0, 1.0), (0.3, 0.3)):
        v = rng.normal(size=18) + shift_f * (np.array(formats) == "mc") + shift_d * (np.array(domains) == "m")
        got = c4.format_vs_domain(v, formats, domains)
        want = naive_format_vs_domain(v, formats, domains)
        assert [got["d_format"][0], got["d_domain"][0], got["effect"][0]] == pytest.approx(want)
    # format separates the models, domain does not: effect > 0; the reverse: effect < 0
    sep = np.array([1.0 if f == "mc" else 0.0 for f in formats]) + rng.normal(0, 0.05, 18)
    assert c4.format_vs_domain(sep, formats, domains)["effect"][0] > 2
    dom = np.array([{"a": 0.0, "l": 1.0, "m": 2.0}[d] for d in domains]) + rng.normal(0, 0.05, 18)
    assert c4.format_vs_domain(dom, formats, domains)["effect"][0] < -2
    # no spread at all: d is undefined, and so is the effect (the rule then says inconclusive)
    assert np.isnan(c4.format_vs_domain(np.zeros(18), formats, domains)["effect"][0])
    with pytest.raises(ValueError, match="two formats"):
        c4.format_vs_domain(np.zeros(4), ["mc"] * 4, ["a", "a", "l", "l"])


def test_effect_ci_pairs_probes_and_gives_the_naive_point_estimate():
    rng = np.random.default_rng(1)
    cells = {f"{d}-{f}": (d, f) for d in ("arith", "logic", "maze") for f in ("mc", "ff")}
    per = {
        n: (rng.random((20, 3)) < (0.7 if f == "mc" else 0.1)).astype(float) for n, (d, f) in cells.items()
    }
    e = c4.effect_ci(per, cells, n_boot=500)
    vals = [per[n][:, s].mean() for n in cells for s in range(3)]
    fmts = [cells[n][1] for n in cells for _ in range(3)]
    doms = [cells[n][0] for n in cells for _ in range(3)]
    assert e["diff"] == pytest.approx(naive_format_vs_domain(vals, fmts, doms)[2])
    assert e["ci_low"] <= e["diff"] <= e["ci_high"] and e["ci_low"] > 0.5  # format clearly dominates
    assert e["cohens_d"] == e["d_format"]
    assert c4.SPEC.rule.decide(e["diff"], e["ci_low"], e["ci_high"]) == "supported"
    flat = c4.effect_ci({n: np.zeros((20, 3)) for n in cells}, cells, n_boot=50)
    assert math.isnan(flat["diff"]) and c4.SPEC.rule.decide(
        flat["diff"], flat["ci_low"], flat["ci_high"]
    ) == ("inconclusive at this scale")


def test_c4_tiny_run(tmp_path, monkeypatch):
    # the built-in setting at its smallest (< 40 s): two of the domains, 1 step of 2 sequences per cell,
    # one probe per domain x format, replies of 24 tokens
    monkeypatch.setattr(c4, "DOMAINS", ("arith", "maze"))
    monkeypatch.setitem(c4.C4_SFT, True, {**c4.C4_SFT[True], "batch_size": 2})
    monkeypatch.setattr(c4, "reply_budget", lambda tok, examples: 24)
    out = tmp_path / "rt"
    main(RetestConfig(claim="C4", quick=True, seeds=2, steps=1, n_test=4, out_dir=str(out)))
    e = json.loads((out / "verdicts.json").read_text())["C4"]
    assert set(e) >= KEYS and e["verdict"] in VERDICTS and e["seeds"] == [0, 1]
    assert set(e["arms"]) == {"base", "arith-mc", "arith-ff", "maze-mc", "maze-ff"} and e["n_questions"] == 4
    assert {a for a, _ in c4.SPEC.arms} - {"base"} == CELLS
    assert e["rule_a"] == "format" and e["rule_b"] == "domain" and e["unit"] == "value"
    for name, arm in e["arms"].items():
        assert len(arm["metric"]["per_seed"]) == 2 and 0 <= arm["metric"]["mean"] <= 1
        assert set(arm["metrics"]) == {"probe accuracy", "traces naming an option", "chain valid"}
        if name != "base":
            assert arm["steps"] == 1 and arm["tokens_seen"] > 0 and arm["format"] in c4.FORMATS
    assert "2505.10185" in e["source"] and "2504.15777" in e["attribution_note"]
    assert any("d_format" in n for n in e["notes"])
    if e["effect"] is not None:  # NaN (no spread among the models) is written as null
        assert e["ci_low"] <= e["effect"] <= e["ci_high"] or e["ci_low"] is None
    assert "## C4" in (out / "report.md").read_text()
    # the report renders from verdicts.json as read back too (NaN written as null: "n/a")
    from reasonsift.retest.report import markdown, page

    back = json.loads((out / "verdicts.json").read_text())
    assert "## C4" in markdown(back, {}) and "C4" in page(back, {})
    null = {**back["C4"], "effect": None, "ci_low": None, "ci_high": None, "cohens_d": None}
    assert "| C4 | " + null["verdict"] + " | n/a | [n/a, n/a] |" in markdown({"C4": null}, {})
