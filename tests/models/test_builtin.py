"""The shipped built-in models: present, loadable, reproducible from their recipe, and as accurate as
documented (a band from the binomial spread on a small fixed test set)."""

from __future__ import annotations

import json
import math

import pytest

from reasonsift.evaluate.accuracy import evaluate_accuracy
from reasonsift.models import builtin, load


def test_unknown_builtin_name():
    with pytest.raises(ValueError, match="name"):
        builtin.builtin_model_path("tiny-nothing")


# docs/models.md and docs/benchmarks.md: greedy exact match on 500 arith test items (seed 0).
DOCUMENTED_ACCURACY = {"tiny-arith": 0.686, "tiny-arith-answer": 0.068}
N_EVAL = 50  # the first 50 of those items: ~15 s on one CPU thread for tiny-arith (its replies are long)
Z = 3.29  # two-sided 99.9% normal band: a correct checkpoint fails this test about once in 1,000 platforms


def accuracy_band(p: float, n: int) -> tuple[float, float]:
    """Where the accuracy on ``n`` items falls when the model's accuracy is ``p`` (binomial, normal approx.)."""
    half = Z * math.sqrt(p * (1 - p) / n)
    return p - half, p + half


@pytest.mark.parametrize("name", sorted(DOCUMENTED_ACCURACY))
def test_shipped_checkpoint_exists_loads_and_matches_its_recipe(name):
    path = builtin.builtin_model_path(name)  # raises if the asset is not shipped
    assert (path / "model.safetensors").is_file() and builtin.ensure_builtin_model(name) == path
    record = json.loads((path / "reasonsift_pretrain.json").read_text())
    for key, value in builtin.RECIPES[name].items():
        assert record["config"][key] == value, key
    model, tok = load(str(path), device="cpu")
    assert sum(p.numel() for p in model.parameters()) == record["result"]["parameters"] == 1_076_608


@pytest.fixture(scope="module")
def shipped_accuracy():
    out = {}
    for name in DOCUMENTED_ACCURACY:
        model, tok = load(str(builtin.builtin_model_path(name)), device="cpu")
        res = evaluate_accuracy(model, tok, ["arith"], n=N_EVAL, splits=["test"], seed=0)
        (score,) = res.scores
        assert score.timeout == score.error == 0
        out[name] = score.accuracy
    return out


@pytest.mark.parametrize("name", sorted(DOCUMENTED_ACCURACY))
def test_shipped_accuracy_agrees_with_the_documented_number(shipped_accuracy, name):
    lo, hi = accuracy_band(DOCUMENTED_ACCURACY[name], N_EVAL)  # tiny-arith: [0.470, 0.902]
    assert lo <= shipped_accuracy[name] <= hi, (name, shipped_accuracy[name], (lo, hi))


def test_traces_beat_answers_only(shipped_accuracy):
    # The demo's comparison: the same recipe without traces is far worse at equal steps.
    assert shipped_accuracy["tiny-arith"] > accuracy_band(DOCUMENTED_ACCURACY["tiny-arith-answer"], N_EVAL)[1]
    assert shipped_accuracy["tiny-arith-answer"] < accuracy_band(DOCUMENTED_ACCURACY["tiny-arith"], N_EVAL)[0]


def test_ensure_pretrains_missing_model_into_cache(tmp_path, monkeypatch):
    recipe = {"name": "t", "tasks": ["arith"], "steps": 2, "batch_size": 2, "hidden_size": 16, "num_layers": 1,
              "num_heads": 2, "intermediate_size": 32, "checkpoint_every": 0}  # fmt: skip
    monkeypatch.setitem(builtin.RECIPES, "tiny-test", recipe)
    path = builtin.ensure_builtin_model("tiny-test", cache=tmp_path, progress=False)
    assert path == tmp_path / "tiny-test" and (path / "model.safetensors").is_file()
    mtime = (path / "model.safetensors").stat().st_mtime
    assert builtin.ensure_builtin_model("tiny-test", cache=tmp_path) == path  # cached: not retrained
    assert (path / "model.safetensors").stat().st_mtime == mtime
