"""The demo pipeline end to end (small sizes): its files, and every number it prints, checked against the
run's own outputs (``stats.json``, the profile Parquet, the data files, the models' training logs)."""

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from reasonsift.data.io import read_examples
from reasonsift.demo import DemoConfig, arith_token_roles, main
from reasonsift.models.builtin import builtin_model_path

TRACE = 0  # profile segment id of trace tokens (reasonsift.profile.render.TRACE)


def test_arith_token_roles_hand_checked():
    trace = "27-40=-13;-13+88=75"
    roles = arith_token_roles(trace)
    got = "".join({"result": "R", "operand": "o", "symbol": "."}[r] for r in roles)
    assert got == "oo.oo.RRR..oo.oo.RR"  # the leading "-" of -13 is a symbol


def test_config_rejects_bad_sizes():
    with pytest.raises(ValueError, match="eval_n"):
        DemoConfig(eval_n=0)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One small demo run: its directory, returned result and everything it printed (wide, no colour)."""
    root = tmp_path_factory.mktemp("demo")
    buf = io.StringIO()
    console = Console(file=buf, width=400, color_system=None, soft_wrap=True)
    cfg = DemoConfig(
        out_dir=str(root), n=3, eval_n=8, profile_n=12, pool_n=40, sft_steps=2, test_n=8, progress=False
    )
    res = main(cfg, out=console)
    return root, res, buf.getvalue()


def test_demo_writes_its_files(demo_run):
    root, res, _ = demo_run
    assert json.loads((root / "demo.json").read_text()) == json.loads(json.dumps(res, default=str))
    data = sorted(p.name for p in (root / "data").glob("*.jsonl"))
    assert len(data) == 3 * 2 * 3 and "arith-free_form-test.jsonl" in data
    for f in ("stats.json", "forking.parquet", "config.json"):
        assert (root / "profile" / f).is_file(), f
    assert list((root / "profile" / "examples").glob("*.parquet"))
    assert (root / "report.html").stat().st_size > 10_000 and res["report"] == str(root / "report.html")


def test_data_rows_match_the_written_files(demo_run):
    _, res, _ = demo_run
    for row in res["data"]:
        exs = read_examples(row["path"]).examples
        assert row["n"] == len(exs) == 3 and row["verified"] == 3
        assert row["mean_trace_chars"] == pytest.approx(sum(len(e.trace) for e in exs) / 3)
        assert Path(row["path"]).name == f"{row['task']}-{row['format']}-{row['split']}.jsonl"


def test_eval_numbers_are_consistent(demo_run):
    _, res, _ = demo_run
    for key in ("eval", "eval_answer_only"):  # built-in model: the with/without traces comparison ran
        for s in res[key]["scores"]:
            states = [s[k] for k in ("correct", "wrong", "no_answer", "timeout", "error")]
            assert s["n"] == 8 and sum(states) == 8 and s["accuracy"] == s["correct"] / 8


def test_equal_tokens_comparison_comes_from_the_training_logs(demo_run):
    _, res, _ = demo_run
    eq = res["equal_tokens"]
    logs = {}
    for name in ("tiny-arith", "tiny-arith-answer"):
        path = builtin_model_path(name)
        lines = [json.loads(x) for x in (path / "train_log.jsonl").read_text().splitlines()]
        logs[name] = [r for r in lines if "accuracy" in r]
        tokens = json.loads((path / "reasonsift_pretrain.json").read_text())["result"]["tokens"]
        assert tokens == lines[-1]["tokens"]
        assert eq["tokens_seen"]["traces" if name == "tiny-arith" else "answers"] == tokens
    end = logs["tiny-arith-answer"][-1]
    assert eq["answers"] == {
        "step": end["step"],
        "tokens": end["tokens"],
        "accuracy": end["accuracy"]["arith"],
    }
    # The traces run's logged evaluation nearest in tokens; no other one is nearer.
    gap = abs(eq["traces"]["tokens"] - end["tokens"])
    assert all(abs(r["tokens"] - end["tokens"]) >= gap for r in logs["tiny-arith"])
    assert gap < 0.05 * end["tokens"]
    assert eq["tokens_seen"]["answers"] < eq["tokens_seen"]["traces"]


def test_profile_numbers_match_stats_json_and_the_parquet(demo_run):
    root, res, _ = demo_run
    stats = json.loads((root / "profile" / "stats.json").read_text())
    assert res["profile"] == stats
    # Recompute from the Parquet: one row per token of each profiled example, trace tokens only.
    ex = pd.read_parquet(root / "profile" / "examples")
    fork = pd.read_parquet(root / "profile" / "forking.parquet", columns=["id", "forking"])
    ex = ex.merge(fork, on="id")
    assert len(ex) == stats["n_profiled"] == 3  # profile_n=12 of the 3 items written per file
    tok = ex[["id", "trace", "tokens", "entropy", "segment", "forking"]].explode(
        ["tokens", "entropy", "segment", "forking"]
    )
    tok = tok[tok["segment"] == TRACE].copy()
    tok["role"] = None
    for i, group in tok.groupby("id", sort=False):
        trace = group["trace"].iloc[0]
        assert "".join(group["tokens"]) == trace  # character-level: roles come from positions
        tok.loc[tok["id"] == i, "role"] = arith_token_roles(trace)
    tok["entropy"] = tok["entropy"].astype(float)
    tok["forking"] = tok["forking"].astype(bool)
    assert (tok["entropy"] < 0.01).mean() == pytest.approx(stats["entropy_trace"]["frac_H_below_0_01"])
    by_role = tok.groupby("role").agg(n=("entropy", "size"), h=("entropy", "sum"), f=("forking", "sum"))
    want = {
        role: {
            "tokens": r.n / by_role["n"].sum(),
            "entropy": r.h / by_role["h"].sum(),
            "forking": r.f / by_role["f"].sum(),
        }
        for role, r in by_role.iterrows()
    }
    assert set(res["roles"]) == set(want) == {"operand", "result", "symbol"}
    for role, shares in want.items():
        assert res["roles"][role] == pytest.approx(shares), role
    # The shipped model's entropy sits on the intermediate results (CLAIMS.md C1 in miniature).
    assert res["roles"]["result"]["entropy"] > res["roles"]["result"]["tokens"]


# Numbers that are part of labels, not results.
_LABELS = ("H < 0.01", "top 20%", "IFD > 1")
_SECTION = re.compile(r"\b\d\. (?=[a-z])")  # "1. built-in tasks"
_PATH = re.compile(r"\S*[A-Za-z_]\S*/\S*|\S*/\S*[A-Za-z_]\S*")  # a path, not "3/3"
_NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?%?")


def _leaves(x):
    if isinstance(x, dict):
        for v in x.values():
            yield from _leaves(v)
    elif isinstance(x, list):
        for v in x:
            yield from _leaves(v)
    elif isinstance(x, (int, float)) and not isinstance(x, bool):
        yield x


def _renderings(x: float) -> set[str]:
    out = {f"{x:.{d}f}" for d in range(5)} | {f"{x:.{d}%}" for d in range(3)} | {f"{x:.4g}"}
    if float(x).is_integer():
        out |= {str(int(x)), f"{int(x):,}"}
    return out


def test_every_printed_number_is_in_demo_json(demo_run):
    root, _, printed = demo_run
    saved = json.loads((root / "demo.json").read_text())
    known = set().union(*(_renderings(v) for v in _leaves(saved)))
    text = _PATH.sub(" ", _SECTION.sub(" ", printed))
    for label in _LABELS:
        assert label in printed, label
        text = text.replace(label, " ")
    numbers = [m.group().rstrip(",") for m in _NUMBER.finditer(text)]
    assert len(numbers) > 100  # data table, model, eval, equal tokens, profile summary, roles
    missing = sorted({n for n in numbers if n not in known})
    assert not missing, f"printed but not in demo.json: {missing}"
    assert "at equal" in printed.lower() and f"{saved['equal_tokens']['tokens_seen']['traces']:,}" in printed


def test_thesis_table_comes_from_the_runs(demo_run):
    """Full pool vs the recipe's 10% vs random 10%: the selections hold 10% of the pool, each arm was trained
    on its own selection for the same steps, and each accuracy is its eval run's mean score."""
    import pyarrow.parquet as pq

    root, res, printed = demo_run
    th = res["thesis"]
    assert th["budget"] == 4 and th["recipe"] == "ifd" and th["pool_n"] == 40
    assert list(th["arms"]) == ["start (no SFT)", "full pool", "ifd 10%", "random 10%"]
    pool_ids = {e.id for e in read_examples(th["pool"]).examples}
    chosen = {}
    for i, (name, arm) in enumerate(th["arms"].items()):
        samples = pq.read_table(root / "thesis" / "sft" / f"eval-{i}" / "samples.parquet").to_pylist()
        assert len(samples) == 8 and arm["accuracy"] == pytest.approx(sum(r["score"] for r in samples) / 8)
        if name.endswith("10%"):
            ids = {e.id for e in read_examples(arm["data"]).examples}
            assert len(ids) == arm["examples"] == 4 and ids <= pool_ids
            chosen[name] = ids
            curves = (root / "thesis" / "sft" / f"arm-{i}" / "curves.jsonl").read_text().splitlines()
            assert json.loads(curves[-1])["step"] == 2  # equal steps
    assert "full pool" in printed and "random 10%" in printed
    a = {n: r["accuracy"] for n, r in th["arms"].items()}
    holds = a["ifd 10%"] > a["random 10%"] and a["ifd 10%"] >= a["full pool"]
    assert th["finding"].startswith(f"The thesis {'holds' if holds else 'does not hold'} here")
    assert f"{a['ifd 10%'] - a['random 10%']:+.3f}" in th["finding"] and th["finding"] in " ".join(
        printed.split()
    )
