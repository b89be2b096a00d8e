from __future__ import annotations

import json
import time

import pytest
import torch

from reasonsift.models.load import ensure_pad_token, load, resolve_dtype


def test_load_reproduces_logits_on_cpu_float32(saved_dir, tok, tiny_model):
    model, tok2 = load(saved_dir)
    assert model.device.type == "cpu" and model.dtype == torch.float32
    assert not model.training
    ids = torch.tensor([tok("<|user|>12+30<|assistant|>", add_special_tokens=False).input_ids])
    with torch.no_grad():
        assert torch.equal(model(ids).logits, tiny_model.eval()(ids).logits)
    assert tok2.chat_template == tok.chat_template
    assert tok2.pad_token == "<pad>"


def test_dtype_is_selectable(saved_dir):
    model, _ = load(saved_dir, dtype="bfloat16")
    assert model.dtype == torch.bfloat16


def test_dtype_resolution():
    assert resolve_dtype("auto", torch.device("cpu")) == torch.float32
    assert resolve_dtype("auto", torch.device("cuda")) == torch.bfloat16
    with pytest.raises(ValueError, match="dtype"):
        resolve_dtype("float8", torch.device("cpu"))


def _to_pickle_only(path):
    from safetensors.torch import load_file

    sd = load_file(str(path / "model.safetensors"))
    (path / "model.safetensors").unlink()
    torch.save(sd, path / "pytorch_model.bin")


def test_pickle_weights_refused_with_reason(saved_dir):
    _to_pickle_only(saved_dir)
    with pytest.raises(ValueError, match="arbitrary code") as e:
        load(saved_dir)
    assert "allow_pickle" in str(e.value) and "pytorch_model.bin" in str(e.value)


def test_pickle_weights_load_when_allowed(saved_dir, tiny_model, tok):
    _to_pickle_only(saved_dir)
    model, _ = load(saved_dir, allow_pickle=True)
    ids = torch.tensor([[5, 6, 7]])
    with torch.no_grad():
        assert torch.equal(model(ids).logits, tiny_model.eval()(ids).logits)


def test_remote_code_refused_unless_trusted(saved_dir):
    cfg = json.loads((saved_dir / "config.json").read_text())
    cfg["model_type"] = "my_custom_arch"
    cfg["auto_map"] = {"AutoModelForCausalLM": "modeling_custom.CustomLM"}
    (saved_dir / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="trust_remote_code") as e:
        load(saved_dir)
    assert "executes the repository's Python" in str(e.value)


def test_offline_hub_id_fails_fast_naming_id(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # empty cache
    t0 = time.perf_counter()
    with pytest.raises(ValueError) as e:
        load("nobody-here/no-such-model-xyz")
    assert time.perf_counter() - t0 < 10
    msg = str(e.value)
    assert "'nobody-here/no-such-model-xyz'" in msg and "local directory" in msg


def test_missing_local_path_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a model directory"):
        load(str(tmp_path / "nope"))


def test_no_weights_is_reported(saved_dir):
    (saved_dir / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="no weights"):
        load(saved_dir)


def test_pad_token_set_when_missing(tiny_model, tok):
    tok.pad_token = None
    tiny_model.generation_config.pad_token_id = None
    ensure_pad_token(tiny_model, tok)
    assert tok.pad_token == tok.eos_token
    assert tiny_model.generation_config.pad_token_id == tok.eos_token_id
