"""CLI conventions shared by every verb: --config YAML with command-line overrides, errors spelled as the
user gave the option, -o/--out for outputs, readable usage lines, on/off flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import reasonsift
from reasonsift.cli import app
from reasonsift.data.io import read_examples

runner = CliRunner()
TINY = str(Path(reasonsift.__file__).parent / "assets" / "models" / "tiny-arith")
VERBS = [
    ["data", "convert"], ["data", "validate"], ["data", "stats"], ["data", "generate"], ["data", "corrupt"],
    ["model", "pretrain"], ["model", "eval"], ["model", "info"], ["profile"], ["view"], ["demo"], ["eval"],
    ["compare"], ["select"], ["select", "reflect"], ["train", "sft"], ["train", "grpo"],
    ["retest"],
]  # fmt: skip
WRITERS = {
    "data convert", "data generate", "data corrupt", "model pretrain", "model eval", "profile", "view", "eval",
    "select", "select reflect", "train sft", "train grpo", "retest",
}  # fmt: skip


def _run(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def _yaml(path: Path, **kw) -> str:
    path.write_text(yaml.safe_dump(kw))
    return str(path)


@pytest.mark.parametrize("verb", VERBS, ids=" ".join)
def test_help_shows_config_readable_usage_and_out(verb):
    res = _run(*verb, "--help")
    assert res.exit_code == 0, res.output
    usage = next(line for line in res.output.splitlines() if "Usage:" in line)
    assert "{" not in usage and "--config" in res.output
    if " ".join(verb) in WRITERS:
        assert "--out" in res.output and "-o" in res.output
    assert "--no-no-" not in res.output


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    recipe = _yaml(root / "gen.yaml", task="arith", n=5, seed=1, out=str(root / "ignored.jsonl"))
    res = _run("data", "generate", "--config", recipe, "-n", "4", "-o", str(root / "a.jsonl"))
    assert res.exit_code == 0, res.output
    return root / "a.jsonl"


def test_command_line_overrides_the_recipe(data):
    exs = read_examples(data).examples
    assert len(exs) == 4 and exs[0].id.startswith("arith")  # -n and -o won over the file's n and out
    assert not (data.parent / "ignored.jsonl").exists()


@pytest.fixture(scope="module")
def profile_run(data) -> Path:
    run = data.parent / "run"
    recipe = _yaml(
        data.parent / "p.yaml", data=str(data), model=TINY, out_dir=str(run), infogain=False, limit=3
    )
    res = _run("profile", "--config", recipe, "--no-ifd")
    assert res.exit_code == 0, res.output
    return run


def _real_runs(tmp: Path, data: Path, run: Path) -> dict[str, tuple[dict, Path | None]]:
    """verb -> (recipe, a file the run must write)"""
    return {
        "data convert": ({"inp": str(data), "out": str(tmp / "c.parquet")}, tmp / "c.parquet"),
        "data validate": ({"inp": str(data)}, None),
        "data stats": ({"inp": str(data), "tokenizer": "builtin", "batch_size": 2}, None),
        "data generate": ({"task": "logic", "n": 2, "out": str(tmp / "g.jsonl")}, tmp / "g.jsonl"),
        "data corrupt": ({"inp": str(data), "mode": "shuffle", "out": str(tmp / "k.jsonl")}, tmp / "k.jsonl"),
        "model pretrain": (
            {
                "out_dir": str(tmp / "m"),
                "steps": 1,
                "batch_size": 2,
                "num_layers": 1,
                "hidden_size": 16,
                "num_heads": 2,
                "intermediate_size": 32,
                "checkpoint_every": 0,
                "progress": False,
            },
            tmp / "m" / "manifest.json",
        ),  # fmt: skip
        "model eval": (
            {"model": TINY, "n": 2, "max_new_tokens": 2, "out": str(tmp / "e.json")},
            tmp / "e.json",
        ),
        "model info": ({"model": TINY, "as_json": True}, None),
        "profile": ({}, run / "manifest.json"),  # the profile_run fixture ran it from a recipe
        "view": ({"run_dir": str(run), "out": str(tmp / "v.html")}, tmp / "v.html"),
        "eval": (
            {
                "model": TINY,
                "tasks": ["arith:test"],
                "limit": 2,
                "out_dir": str(tmp / "ev"),
                "infogain": False,
            },
            tmp / "ev" / "results.json",
        ),
        "compare": ({"run_a": "EVAL_RUN_A", "run_b": "EVAL_RUN_B"}, None),  # two eval runs, made on demand
        "select": (
            {
                "data": str(data),
                "profile": str(run),
                "recipe": "random",
                "budget": 2,
                "out_dir": str(tmp / "s"),
            },
            tmp / "s" / "selected.parquet",
        ),
        "select reflect": (
            {"original": str(data), "refined": str(data), "model": TINY, "out_dir": str(tmp / "rf")},
            tmp / "rf" / "pairs.parquet",
        ),
        "train sft": (
            {"model": TINY, "data": str(data), "out_dir": str(tmp / "t"), "max_steps": 1, "batch_size": 2},
            tmp / "t" / "cost.json",
        ),
        "train grpo": (
            {
                "model": TINY,
                "task": "arith",
                "n_prompts": 2,
                "num_generations": 2,
                "batch_size": 4,
                "max_steps": 1,
                "out_dir": str(tmp / "g"),
            },
            tmp / "g" / "cost.json",
        ),
        "retest": (
            {"claim": "C1", "quick": True, "seeds": 1, "steps": 1, "n_test": 4, "out_dir": str(tmp / "rt")},
            tmp / "rt" / "verdicts.json",
        ),
    }


def _eval_run(tmp: Path, name: str) -> Path:
    res = _run("eval", "-m", TINY, "-t", "arith", "--limit", "2", "--no-infogain", "-o", str(tmp / name))
    assert res.exit_code == 0, res.output
    return tmp / name


@pytest.mark.parametrize("verb", [v for v in VERBS if v != ["demo"]], ids=" ".join)
def test_every_verb_runs_from_a_recipe(verb, tmp_path, data, profile_run):
    recipe, made = _real_runs(tmp_path, data, profile_run)[" ".join(verb)]
    if verb == ["compare"]:
        recipe = {k: str(_eval_run(tmp_path, v[-1].lower())) for k, v in recipe.items()}
    if recipe:
        res = _run(*verb, "--config", _yaml(tmp_path / "r.yaml", **recipe))
        assert res.exit_code == 0, res.output
    assert made is None or made.exists()


def test_demo_recipe_errors_name_file_and_field(tmp_path):
    recipe = _yaml(tmp_path / "demo.yaml", eval_n=0)
    res = _run("demo", "--config", recipe)
    assert res.exit_code == 1 and f"{recipe}: eval_n: expected >= 1" in res.output


@pytest.mark.parametrize(
    ("recipe", "args", "message"),
    [
        ({"bogus": 1}, [], "{r}: bogus: unknown ProfileConfig field"),
        ({"batch_size": "many"}, [], "{r}: batch_size: expected int, got 'many'"),
        ({"batch_size": 0}, [], "{r}: batch_size: expected >= 1"),
        ({}, ["--batch-size", "0"], "--batch-size: expected >= 1"),
        ({"batch_size": 0}, ["--batch-size", "0"], "--batch-size: expected >= 1"),  # the command line's value
        ({}, ["--rho", "1.5"], "--rho: expected 0 < rho <= 1"),
        ({}, ["--template", "t.jinja", "--no-template"], "--template: --template and --no-template exclude"),
    ],
)
def test_errors_name_the_option_as_given(tmp_path, data, recipe, args, message):
    r = _yaml(tmp_path / "r.yaml", data=str(data), model=TINY, out_dir=str(tmp_path / "run"), **recipe)
    res = _run("profile", "--config", r, *args)
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert message.format(r=r) in res.output.replace("\n", "")


def test_missing_required_and_resume_errors(tmp_path, data, profile_run):
    res = _run("data", "generate", "-o", str(tmp_path / "x.jsonl"))
    assert res.exit_code == 1 and "missing TASK" in res.output
    res = _run(
        "profile", str(data), "-m", TINY, "-o", str(profile_run), "--no-ifd", "--no-infogain", "--limit", "3"
    )
    assert res.exit_code == 1 and "--resume or --overwrite" in res.output
    args = ["profile", str(data), "-m", TINY, "-o", str(profile_run), "--no-infogain", "--limit", "3"]
    res = _run(*args, "--resume")  # the recorded run had ifd off (from the command line)
    assert res.exit_code == 1 and "--ifd: differs from the run" in res.output.replace("\n", "")


def test_flags_take_no_value_and_old_spellings_work(tmp_path, data):
    out = tmp_path / "a.jsonl"
    assert _run("data", "generate", "arith", "-n", "2", "--output", str(out)).exit_code == 0
    assert len(read_examples(out).examples) == 2
    res = _run("profile", str(data), "-m", TINY, "-o", str(tmp_path / "r"), "--no-no-template")
    assert res.exit_code == 2  # no such option
    res = _run("model", "info", TINY, "--json", "true")
    assert res.exit_code == 2  # a flag takes no value
    res = _run("model", "info", TINY, "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["architecture"] == "LlamaForCausalLM"


def test_demo_reads_a_recipe(tmp_path, monkeypatch):
    import reasonsift.demo

    seen = []
    monkeypatch.setattr(reasonsift.demo, "main", seen.append)  # the real run is tests/test_demo.py
    recipe = _yaml(tmp_path / "demo.yaml", n=3, eval_n=5, out_dir=str(tmp_path / "d"))
    res = _run("demo", "--config", recipe, "-n", "2")
    assert res.exit_code == 0, res.output
    assert (seen[0].n, seen[0].eval_n, seen[0].out_dir) == (2, 5, str(tmp_path / "d"))
    assert seen[0].profile_n == reasonsift.demo.DemoConfig.default("profile_n")


def test_profile_reads_a_split_of_a_dataset_dict(tmp_path, data):
    datasets = pytest.importorskip("datasets")
    rows = [e.to_dict() for e in read_examples(data).examples]
    datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)}).save_to_disk(str(tmp_path / "dd"))
    args = [
        "profile",
        str(tmp_path / "dd"),
        "-m",
        TINY,
        "-o",
        str(tmp_path / "r"),
        "--no-ifd",
        "--no-infogain",
    ]
    res = _run(*args, "--split", "test", "--limit", "2")
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["config"]["split"] == "test" and manifest["inputs"][0]["sha256"]
