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


def test_attn_implementation_is_selectable(saved_dir):
    """``--attn-implementation`` reaches from_pretrained; None keeps transformers' default; an unknown kernel
    is transformers' own error, not a silent fallback."""
    assert load(saved_dir, attn_implementation="eager")[0].config._attn_implementation == "eager"
    assert load(saved_dir)[0].config._attn_implementation == "sdpa"
    with pytest.raises(ValueError, match="no_such_kernel"):
        load(saved_dir, attn_implementation="no_such_kernel")


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


# ---- hostile input (issue 7): a clear ValueError naming the option or the file, never a traceback ----
@pytest.mark.parametrize("name", ["auto", "cpu", "cuda", "cuda:0", "cuda:12", "mps"])
def test_check_device_accepts_the_documented_spellings(name):
    from reasonsift.models.load import check_device

    check_device(name)


@pytest.mark.parametrize("name", ["tpu", "gpu", "cuda:", "cuda:x", "CPU", "", "cuda:0 ", "cpu;rm"])
def test_check_device_refuses_anything_else_naming_the_option(name):
    from reasonsift.models.load import check_device, resolve_device

    for fn in (check_device, resolve_device):
        with pytest.raises(ValueError, match=r"^device: expected auto, cpu, cuda, cuda:N or mps") as e:
            fn(name)
        assert "--device" in str(e.value)


def test_configs_refuse_a_bad_device_before_any_model_loads():
    from reasonsift.profile.config import ProfileConfig
    from reasonsift.train.pretrain import PretrainConfig

    with pytest.raises(ValueError, match="--device"):
        ProfileConfig(device="tpu")
    with pytest.raises(ValueError, match="--device"):
        PretrainConfig(out_dir="unused", device="tpu").validate()  # main() validates before building


def test_profile_cli_rejects_device_before_reading_the_model(tmp_path):
    from typer.testing import CliRunner

    from reasonsift.cli import app

    data = tmp_path / "d.jsonl"
    data.write_text('{"id": "a", "question": "q", "answer": "a"}\n')
    res = CliRunner().invoke(
        app,
        [
            "profile",
            str(data),
            "-o",
            str(tmp_path / "run"),
            "-m",
            str(tmp_path / "no-such-model"),
            "--device",
            "tpu",
        ],
        env={"COLUMNS": "200"},
    )
    assert res.exit_code != 0
    assert "--device" in res.output and "no-such-model" not in res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize("damage", ["garbage", "truncated", "bad_header"])
def test_corrupt_safetensors_is_a_clear_error_naming_the_file(saved_dir, damage):
    p = saved_dir / "model.safetensors"
    b = p.read_bytes()
    p.write_bytes(
        {
            "garbage": b"not safetensors" * 4,
            "truncated": b[: len(b) // 2],
            "bad_header": b[:8] + b"{{{{" + b[12:],
        }[damage]
    )
    with pytest.raises(ValueError, match="not a valid safetensors file") as e:
        load(saved_dir)
    assert str(p) in str(e.value) and "save it again" in str(e.value)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_pickle_with_allow_pickle_is_a_clear_error_naming_the_file(saved_dir, damage):
    _to_pickle_only(saved_dir)
    p = saved_dir / "pytorch_model.bin"
    b = p.read_bytes()
    p.write_bytes(b"garbage!" * 10 if damage == "garbage" else b[: len(b) // 2])
    with pytest.raises(ValueError, match="could not read the weights pytorch_model.bin") as e:
        load(saved_dir, allow_pickle=True)
    assert "weights_only" not in str(
        e.value
    )  # torch's hint to unpickle without the safety net is not passed on
