from __future__ import annotations

import pytest

from reasonsift.models import builtin


def test_unknown_builtin_name():
    with pytest.raises(ValueError, match="name"):
        builtin.builtin_model_path("tiny-nothing")


def test_shipped_checkpoint_or_clear_error():
    try:
        path = builtin.builtin_model_path("tiny-arith")
    except FileNotFoundError as e:
        assert "ensure_builtin_model" in str(e)
    else:
        assert (path / "model.safetensors").is_file() and (path / "reasonsift_pretrain.json").is_file()


def test_ensure_pretrains_missing_model_into_cache(tmp_path, monkeypatch):
    recipe = {"name": "t", "tasks": ["arith"], "steps": 2, "batch_size": 2, "hidden_size": 16, "num_layers": 1,
              "num_heads": 2, "intermediate_size": 32, "checkpoint_every": 0}  # fmt: skip
    monkeypatch.setitem(builtin.RECIPES, "tiny-test", recipe)
    path = builtin.ensure_builtin_model("tiny-test", cache=tmp_path, progress=False)
    assert path == tmp_path / "tiny-test" and (path / "model.safetensors").is_file()
    mtime = (path / "model.safetensors").stat().st_mtime
    assert builtin.ensure_builtin_model("tiny-test", cache=tmp_path) == path  # cached: not retrained
    assert (path / "model.safetensors").stat().st_mtime == mtime
