"""``reasonsift select`` end to end on built-in tasks with the built-in model: every recipe, the outputs, the
balance read = kept + dropped, the joined columns against a plain reference, the missing-column errors."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

import reasonsift
from reasonsift.cli import app
from reasonsift.data.io import read_examples, write_examples
from reasonsift.select import join as J
from reasonsift.select.base import Decision, Stage
from reasonsift.select.pipeline import SelectConfig, main, run_stages
from reasonsift.select.recipe import apply_budget, load_recipe, recipe_names

TINY = str(Path(reasonsift.__file__).parent / "assets" / "models" / "tiny-arith")
RECIPES = ["s1", "limo", "ifd", "forking", "random"]
runner = CliRunner()


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A pool of 16 arith items, its profile run and an eval run (4 samples at T=1: solve rates in 0..1)."""
    from reasonsift.evaluate.stage import EvalStageConfig
    from reasonsift.evaluate.stage import main as eval_main
    from reasonsift.profile import ProfileConfig, run_profile
    from reasonsift.tasks import get_task

    root = tmp_path_factory.mktemp("select")
    pool = root / "pool.jsonl"
    write_examples(get_task("arith").generate(16, seed=0), pool)
    run_profile(ProfileConfig(data=str(pool), model=TINY, out_dir=str(root / "prof"), infogain=False))
    ev = EvalStageConfig(
        model=TINY, data=str(pool), out_dir=str(root / "ev"), n=4, temperature=1.0, infogain=False
    )
    eval_main(ev)
    return {"data": pool, "profile": root / "prof", "eval": root / "ev", "root": root}


def _select(runs, out: Path, **kw) -> reasonsift.select.pipeline.SelectResult:
    args = {"data": str(runs["data"]), "out_dir": str(out), "profile": str(runs["profile"])}
    args |= {"eval": str(runs["eval"]), **kw}
    return main(SelectConfig(**args))


def test_shipped_recipes_are_package_data():
    assert set(RECIPES) <= set(recipe_names())
    pyproject = Path(__file__).parents[2] / "pyproject.toml"
    if pyproject.exists():
        assert "select/recipes/*.yaml" in pyproject.read_text()


@pytest.mark.parametrize("recipe", RECIPES)
def test_recipe_end_to_end(runs, tmp_path, recipe):
    out = tmp_path / recipe
    res = _select(runs, out, recipe=recipe, budget=4)
    assert res.n_read == 16 and res.n_read == res.n_kept + res.n_dropped and res.n_kept <= 4
    stages = json.loads((out / "stages.json").read_text())
    assert stages["read"] == stages["kept"] + stages["dropped"] == 16
    n_in = 16
    for s in stages["stages"]:  # each stage sees what the previous one kept
        assert s["in"] == n_in == s["kept"] + s["dropped"]
        n_in = s["kept"]
    assert n_in == res.n_kept
    assert [s["stage"] for s in stages["stages"]] == [s.name for s in load_recipe(recipe)]

    sel = pq.read_table(out / "selected.parquet").to_pylist()
    drop = pq.read_table(out / "dropped.parquet").to_pylist()
    assert len(sel) == res.n_kept and len(drop) == res.n_dropped
    assert sorted(r["id"] for r in sel + drop) == sorted(e.id for e in read_examples(runs["data"]).examples)
    assert all(r["reason_kept"] for r in sel)
    assert all(r["stage"] and r["reason"] for r in drop)
    per_stage = {s["stage"]: s["dropped"] for s in stages["stages"]}
    for name, n in per_stage.items():
        assert sum(r["stage"] == name for r in drop) == n

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stage"] == "select" and manifest["result"]["kept"] == res.n_kept
    assert {str(runs["profile"].resolve()), str(runs["eval"].resolve())} <= set(manifest["parents"])
    recipe_in = [i for i in manifest["inputs"] if i["path"].endswith(f"{recipe}.yaml")]
    assert recipe_in and recipe_in[0]["sha256"] and manifest["config"]["seed"] == 0
    assert manifest["resolved"]["recipe_stages"][-1]["n"] == 4  # --budget reached the sizing stage
    for name in ("card.md", "card.html"):
        assert "Stages" in (out / name).read_text()

    # selected.parquet is native data: reasonsift data convert reads it
    res = runner.invoke(
        app, ["data", "convert", str(out / "selected.parquet"), "--to", "trl", "-o", str(out / "t.jsonl")]
    )
    assert res.exit_code == 0, res.output
    assert len((out / "t.jsonl").read_text().splitlines()) == len(sel)


def test_columns_each_stage_used_are_written(runs, tmp_path):
    out = tmp_path / "ifd"
    _select(runs, out, recipe="ifd", budget=4)
    cols = pq.read_table(out / "selected.parquet").column_names
    assert "ifd" in cols and "reason_kept" in cols
    out = tmp_path / "s1"
    _select(runs, out, recipe="s1", budget=4)
    assert "solve_rate" in pq.read_table(out / "dropped.parquet").column_names


def test_joined_columns_match_a_plain_reference(runs):
    from reasonsift.profile import schema as S

    rows = pq.read_table(runs["profile"] / "examples").to_pylist()
    fork = {r["id"]: r for r in pq.read_table(runs["profile"] / "forking.parquet").to_pylist()}
    got = J.read_profile(runs["profile"])
    assert set(got) == {r["id"] for r in rows}
    assert J.read_profile(runs["profile"], batch_rows=3) == got  # batches of 3 rows: the same columns
    for r in rows:
        trace = [h for h, s in zip(r["entropy"], r["segment"], strict=True) if s == S.TRACE]
        mass = sum(trace)
        assert got[r["id"]]["entropy_mass_trace"] == pytest.approx(mass, rel=1e-6)
        share = fork[r["id"]]["forking_trace"] / len(trace) if trace else None
        assert got[r["id"]]["forking_share_trace"] == pytest.approx(share)
        assert got[r["id"]]["ifd"] == pytest.approx(r["ifd"])
    q = {r["id"]: r for r in pq.read_table(runs["eval"] / "questions.parquet").to_pylist()}
    ev = J.read_eval(runs["eval"])
    for id_, r in q.items():
        assert ev[id_] == {"solve_rate": r["solve_rate"], "n": 4, "correct": r["correct"]}
        assert r["correct"] == round(r["solve_rate"] * 4)


def test_ids_missing_from_a_run_get_nulls(runs):
    records = [e.to_dict() for e in read_examples(runs["data"]).examples] + [
        {"id": "not-profiled", "question": "1+1", "answer": "2"}
    ]
    assert J.join(records, J.read_eval(runs["eval"]), ("solve_rate", "n", "correct")) == 16
    assert records[-1]["solve_rate"] is None and records[0]["solve_rate"] is not None


@pytest.mark.parametrize(
    ("recipe", "given", "message"),
    [
        (
            "ifd",
            {"eval"},
            "profile: stage 2 (ifd) needs column 'ifd', which a profile run provides; pass --profile",
        ),
        ("forking", set(), "stage 2 (forking) needs column 'forking_share_trace', which a profile run"),
        (
            "s1",
            {"profile"},
            "eval: stage 2 (difficulty) needs column 'solve_rate', which an eval run provides",
        ),
        ("limo", {"profile"}, "pass --eval RUN"),
    ],
)
def test_missing_column_names_stage_column_and_run(runs, tmp_path, recipe, given, message):
    kw = {k: (str(runs[k]) if k in given else None) for k in ("profile", "eval")}
    with pytest.raises(ValueError, match="needs column") as e:
        main(SelectConfig(data=str(runs["data"]), out_dir=str(tmp_path / "o"), recipe=recipe, **kw))
    assert message in str(e.value)
    assert not (tmp_path / "o").exists()  # stopped before writing anything


def test_random_needs_no_runs_and_is_deterministic_for_a_seed(runs, tmp_path):
    def ids(name, seed):
        cfg = SelectConfig(
            data=str(runs["data"]), out_dir=str(tmp_path / name), recipe="random", budget=5, seed=seed
        )
        main(cfg)
        return [r["id"] for r in pq.read_table(tmp_path / name / "selected.parquet").to_pylist()]

    a, b = ids("a", 0), ids("b", 0)
    assert a == b and len(a) == 5
    assert any(ids(f"s{s}", s) != a for s in (1, 2, 3))


def test_every_recipe_is_deterministic_for_a_seed(runs, tmp_path):
    for recipe in RECIPES:
        got = []
        for k in range(2):
            out = tmp_path / f"{recipe}{k}"
            _select(runs, out, recipe=recipe, budget=4, seed=7)
            got.append(pq.read_table(out / "selected.parquet").to_pylist())
        assert got[0] == got[1], recipe


def test_user_recipe_file_and_unknown_stage(runs, tmp_path):
    good = tmp_path / "mine.yaml"
    good.write_text(yaml.safe_dump([{"stage": "random", "n": 3}]))
    res = main(SelectConfig(data=str(runs["data"]), out_dir=str(tmp_path / "g"), recipe=str(good)))
    assert res.n_kept == 3
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump([{"stage": "random", "n": 3}, {"stage": "sparkle"}]))
    with pytest.raises(ValueError, match="unknown stage 'sparkle'; known: .*budget.*random") as e:
        main(SelectConfig(data=str(runs["data"]), out_dir=str(tmp_path / "b"), recipe=str(bad)))
    for name in ("dedup", "quality", "difficulty", "ifd", "forking", "diversity", "chain"):
        assert name in str(e.value)
    with pytest.raises(ValueError, match="recipe: unknown recipe 'nope'; shipped: forking, ifd, limo"):
        main(SelectConfig(data=str(runs["data"]), out_dir=str(tmp_path / "n"), recipe="nope"))


def test_reflection_recipe_points_to_select_reflect():
    from reasonsift.select.recipe import recipe_path

    with pytest.raises(ValueError, match="reasonsift select reflect ORIGINAL REFINED"):
        recipe_path("reflection")


def test_budget_and_tokens_override_the_recipe():
    specs = apply_budget(load_recipe("s1"), 50, None)
    assert [s.params.get("n") for s in specs] == [None, None, 50]
    specs = apply_budget(load_recipe("ifd"), 7, 3000)
    assert specs[-1].params == {**load_recipe("ifd")[-1].params, "n": 7, "tokens": 3000}
    with pytest.raises(ValueError, match="tokens: the recipe has no budget stage"):
        apply_budget(load_recipe("random"), None, 100)
    with pytest.raises(ValueError, match="budget: expected >= 1"):
        SelectConfig(data="x", out_dir="y", budget=0)


def test_tokens_fill_the_budget_stage(runs, tmp_path):
    out = tmp_path / "t"
    res = _select(runs, out, recipe="ifd", tokens=150)
    sel = pq.read_table(out / "selected.parquet").to_pylist()
    assert 0 < res.n_kept < 16 and sum(r["budget_tokens"] for r in sel) <= 150
    with pytest.raises(ValueError, match="tokens: the recipe has no budget stage"):
        _select(runs, tmp_path / "r", recipe="random", tokens=150)


def test_existing_run_needs_resume_or_overwrite(runs, tmp_path):
    cfg = dict(data=str(runs["data"]), out_dir=str(tmp_path / "o"), recipe="random", budget=3)
    main(SelectConfig(**cfg))
    with pytest.raises(ValueError, match="--resume or --overwrite"):
        main(SelectConfig(**cfg))
    with pytest.raises(ValueError, match="seed: differs from the run"):
        main(SelectConfig(**cfg, seed=1, resume=True))
    assert main(SelectConfig(**cfg, resume=True)).n_kept == 3
    assert main(SelectConfig(**cfg, seed=1, overwrite=True)).n_kept == 3


class _DropOdd(Stage):
    """Test stage: drops every other record it sees and reports the position it saw it at."""

    name = "_test_drop_odd"

    def run(self, records, rng):
        return [Decision(i % 2 == 0, f"position {i}", {"_position": i}) for i in range(len(records))]


def test_run_stages_balances_and_keeps_reasons_and_columns():
    records = [{"id": str(i), "question": "q", "answer": "a"} for i in range(10)]
    kept, dropped, counts = run_stages(records, [_DropOdd(), _DropOdd()], seed=0)
    assert [r["id"] for r in kept] == ["0", "4", "8"] and len(kept) + len(dropped) == 10
    assert counts == [
        {"stage": "_test_drop_odd", "in": 10, "kept": 5, "dropped": 5},
        {"stage": "_test_drop_odd", "in": 5, "kept": 3, "dropped": 2},
    ]
    assert kept[1]["reason_kept"] == "_test_drop_odd: position 4; _test_drop_odd: position 2"
    assert kept[1]["_position"] == 2  # the second stage's value, written over the first's
    assert {r["reason"] for r in dropped} >= {"position 1", "position 3"}


def test_cli_select_and_errors(runs, tmp_path):
    out = tmp_path / "c"
    res = runner.invoke(
        app, ["select", str(runs["data"]), "--recipe", "random", "--budget", "3", "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "read 16 = kept 3 + dropped 13" in res.output.replace("\n", " ")
    res = runner.invoke(app, ["select", str(runs["data"]), "--recipe", "ifd", "-o", str(tmp_path / "d")])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "--profile: stage 2 (ifd) needs column 'ifd'" in res.output.replace("\n", "")
    res = runner.invoke(app, ["select", "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0 and "Usage: reasonsift select [OPTIONS] [DATA]" in res.output
    res = runner.invoke(app, ["select", "reflect", "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0 and "ORIGINAL" in res.output and "--model" in res.output


def test_a_column_from_no_run_must_come_from_an_earlier_stage(runs, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump([{"stage": "budget", "n": 3, "score": "chain_score"}]))
    with pytest.raises(
        ValueError, match=r"stage 1 \(budget\) needs column 'chain_score', which no run and no"
    ):
        main(SelectConfig(data=str(runs["data"]), out_dir=str(tmp_path / "b"), recipe=str(bad)))
    ok = tmp_path / "ok.yaml"
    ok.write_text(yaml.safe_dump([{"stage": "chain"}, {"stage": "budget", "n": 3, "score": "chain_score"}]))
    res = main(SelectConfig(data=str(runs["data"]), out_dir=str(tmp_path / "o"), recipe=str(ok)))
    assert res.n_kept == 3
    assert "chain_score" in pq.read_table(tmp_path / "o" / "selected.parquet").column_names


def test_select_reflect_writes_pairs_and_the_chosen_versions(runs, tmp_path):
    pytest.importorskip("reasonsift.select.reflect")
    from reasonsift.data.example import Example

    original = read_examples(runs["data"]).examples[:4]
    refined = [
        Example(**{**e.to_dict(), "question": e.question + " = ?", "trace": e.trace.replace(";", "; so ")})
        for e in reversed(original)  # paired by id, not by position
    ]
    write_examples(original, tmp_path / "o.jsonl")
    write_examples(refined, tmp_path / "r.jsonl")
    out = tmp_path / "refl"
    args = [
        "select",
        "reflect",
        str(tmp_path / "o.jsonl"),
        str(tmp_path / "r.jsonl"),
        "-m",
        TINY,
        "-o",
        str(out),
    ]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    pairs = pq.read_table(out / "pairs.parquet").to_pylist()
    assert [p["id"] for p in pairs] == [e.id for e in original]
    assert all(p["branch"] and p["reason"] and "ifd_q" in p and "rifd_q_a" in p for p in pairs)
    sel = {r["id"]: r for r in pq.read_table(out / "selected.parquet").to_pylist()}
    by_id = {e.id: e for e in refined}
    for p in pairs:
        if p["choice"] == "dropped":
            assert p["id"] not in sel
            continue
        r = sel[p["id"]]
        assert r["trace"] == by_id[p["id"]].trace  # the refined answer either way
        want_q = (by_id if p["choice"] == "refined" else {e.id: e for e in original})[p["id"]].question
        assert r["question"] == want_q and r["choice"] == p["choice"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stage"] == "select-reflect" and manifest["result"]["pairs"] == 4
    assert len(sel) == sum(p["choice"] != "dropped" for p in pairs)
    if sel:  # the tiny model may drop every pair; an empty file has nothing to convert
        args = ["data", "convert", str(out / "selected.parquet"), "-o", str(tmp_path / "c.jsonl")]
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.output


def test_diversity_coverage_embeds_with_the_student(runs, tmp_path):
    """A coverage recipe needs --embed-model: the student's mean hidden states, equal to a direct call."""
    import numpy as np
    import pandas as pd

    from reasonsift.data.render import completion_text, prompt_text
    from reasonsift.models import load
    from reasonsift.select.diversity import kcenter_greedy
    from reasonsift.select.embed import mean_hidden_states

    recipe = tmp_path / "cover.yaml"
    recipe.write_text(yaml.safe_dump([{"stage": "diversity", "mode": "coverage", "n": 4}]))
    with pytest.raises(ValueError, match="--embed-model"):
        main(SelectConfig(data=str(runs["data"]), out_dir=str(tmp_path / "x"), recipe=str(recipe)))
    res = main(
        SelectConfig(
            data=str(runs["data"]), out_dir=str(tmp_path / "c"), recipe=str(recipe), embed_model=TINY
        )
    )
    assert res.n_kept == 4 and res.n_dropped == 12
    exs = read_examples(str(runs["data"])).examples
    m, tok = load(TINY)
    emb = mean_hidden_states(m, tok, [f"{prompt_text(e)}\n{completion_text(e)}" for e in exs])
    want = {exs[i].id for i in kcenter_greedy(np.asarray(emb, dtype=np.float64), 4)[0]}
    assert set(pd.read_parquet(tmp_path / "c" / "selected.parquet").id) == want
