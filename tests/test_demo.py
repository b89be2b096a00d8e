"""The demo pipeline end to end (small sizes), and its token-role attribution."""

import json

import pytest

from reasonsift.demo import DemoConfig, arith_token_roles, main


def test_arith_token_roles_hand_checked():
    trace = "27-40=-13;-13+88=75"
    roles = arith_token_roles(trace)
    got = "".join({"result": "R", "operand": "o", "symbol": "."}[r] for r in roles)
    assert got == "oo.oo.RRR..oo.oo.RR"  # the leading "-" of -13 is a symbol


def test_config_rejects_bad_sizes():
    with pytest.raises(ValueError, match="eval_n"):
        DemoConfig(eval_n=0)


def test_demo_runs_end_to_end(tmp_path):
    res = main(DemoConfig(out_dir=str(tmp_path), n=3, eval_n=8, profile_n=12, progress=False))
    saved = json.loads((tmp_path / "demo.json").read_text())
    assert saved["model"] == res["model"]
    # Every task x format x split written, and every reference verified.
    assert len(res["data"]) == 3 * 2 * 3 and all(r["verified"] == r["n"] == 3 for r in res["data"])
    assert (tmp_path / "report.html").stat().st_size > 10_000
    assert "eval_answer_only" in res  # built-in model: the with/without traces comparison ran
    roles = res["roles"]
    assert set(roles) == {"operand", "result", "symbol"}
    for key in ("tokens", "entropy", "forking"):
        assert sum(v[key] for v in roles.values()) == pytest.approx(1.0)
    # The shipped model's entropy sits on the intermediate results (CLAIMS.md C1 in miniature).
    assert roles["result"]["entropy"] > roles["result"]["tokens"]
