from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file

from reasonsift.models.tiny import build_tiny_model
from reasonsift.models.tokenizer import build_tokenizer
from reasonsift.train.pretrain import LOG_FILE, RECORD_FILE, PretrainConfig, main, make_labels

TINY = {"hidden_size": 32, "num_layers": 2, "num_heads": 2, "intermediate_size": 64, "max_length": 128}


def _cfg(out, **kw):
    base = {"batch_size": 8, "lr": 3e-3, "warmup_steps": 2, "log_every": 1, "progress": False, **TINY}
    return PretrainConfig(out_dir=str(out), **{**base, **kw})


def test_short_run_lowers_loss_and_changes_every_parameter(tmp_path):
    cfg = _cfg(tmp_path / "m", steps=20, checkpoint_every=0)
    record = main(cfg)
    log = [json.loads(line) for line in (tmp_path / "m" / LOG_FILE).read_text().splitlines()]
    losses = [e["loss"] for e in log]
    assert len(losses) == 20
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 0.5
    init = build_tiny_model(build_tokenizer(128), cfg.spec(), seed=cfg.seed).state_dict()
    trained = load_file(str(tmp_path / "m" / "model.safetensors"))
    assert set(init) == set(trained)
    unchanged = [k for k in init if torch.equal(init[k], trained[k])]
    assert unchanged == []
    assert record["result"]["steps"] == 20 and len(record["result"]["data_hash"]) == 64


def test_saved_dir_is_a_complete_hf_model_dir(tmp_path):
    main(_cfg(tmp_path / "m", steps=2, checkpoint_every=0, name="unit"))
    names = {p.name for p in (tmp_path / "m").iterdir()}
    assert {
        "config.json",
        "model.safetensors",
        "generation_config.json",
        "tokenizer.json",
        "README.md",
    } <= names
    assert RECORD_FILE in names
    card = (tmp_path / "m" / "README.md").read_text()
    rec = json.loads((tmp_path / "m" / RECORD_FILE).read_text())
    for needle in ("arith", "trace=1", "| seed | 0 |", rec["result"]["data_hash"], "| steps | 2 "):
        assert needle in card


def test_resume_reproduces_an_uninterrupted_run(tmp_path):
    main(_cfg(tmp_path / "a", steps=8, checkpoint_every=0))
    rec_b = main(_cfg(tmp_path / "b", steps=8, checkpoint_every=4))
    ckpts = sorted((tmp_path / "b" / "checkpoints").iterdir())
    assert [c.name for c in ckpts] == ["step-000004"]
    # Simulate a crash after step 4: the final model is gone, only the checkpoint remains.
    shutil.rmtree(tmp_path / "c", ignore_errors=True)
    (tmp_path / "c" / "checkpoints").mkdir(parents=True)
    shutil.copytree(ckpts[0], tmp_path / "c" / "checkpoints" / ckpts[0].name)
    rec_c = main(_cfg(tmp_path / "c", steps=8, checkpoint_every=4, resume=True))
    a = load_file(str(tmp_path / "a" / "model.safetensors"))
    c = load_file(str(tmp_path / "c" / "model.safetensors"))
    for k in a:
        torch.testing.assert_close(c[k], a[k], rtol=1e-5, atol=1e-6)
    assert rec_c["result"]["data_hash"] == rec_b["result"]["data_hash"]
    assert rec_c["result"]["tokens"] == rec_b["result"]["tokens"]


def test_existing_checkpoints_need_resume(tmp_path):
    main(_cfg(tmp_path / "m", steps=4, checkpoint_every=2))
    with pytest.raises(ValueError, match="resume"):
        main(_cfg(tmp_path / "m", steps=4))


@pytest.mark.parametrize(
    ("field", "value"),
    [("steps", 0), ("loss_on", "prompt"), ("tasks", ["nope"]), ("lr", 0.0), ("mixture", {"trace": 0.0})],
)
def test_invalid_config_names_the_field(tmp_path, field, value):
    with pytest.raises(ValueError, match=field if field != "tasks" else "task"):
        _cfg(tmp_path / "m", **{field: value}).validate()


def test_make_labels_hand_checked():
    ids = torch.tensor([[7, 4, 9, 8, 0], [4, 5, 6, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]])
    assert make_labels(ids, mask, None).tolist() == [[7, 4, 9, 8, -100], [4, 5, 6, -100, -100]]
    # assistant marker id 4: it and everything before it leave the loss.
    assert make_labels(ids, mask, 4).tolist() == [[-100, -100, 9, 8, -100], [-100, 5, 6, -100, -100]]


def test_assistant_only_loss_trains(tmp_path):
    rec = main(_cfg(tmp_path / "m", steps=3, checkpoint_every=0, loss_on="assistant"))
    assert rec["result"]["final_loss"] == rec["result"]["final_loss"]  # not NaN


def test_run_contract_overwrite_resume_and_manifest(tmp_path):
    out = tmp_path / "m"
    main(_cfg(out, steps=4, checkpoint_every=2))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stage"] == "pretrain" and manifest["result"]["steps"] == 4
    assert manifest["models"]["output"]["files_sha256"] and manifest["resolved"] == {"precision": "float32"}
    assert json.loads((out / "run_config.json").read_text())["config"]["lr"] == 3e-3
    with pytest.raises(ValueError, match="^lr: differs from the run"):
        main(_cfg(out, steps=4, lr=1e-3, resume=True))
    (out / "notes.txt").write_text("mine")
    main(_cfg(out, steps=2, checkpoint_every=0, overwrite=True))
    assert not (out / "checkpoints").exists() and (out / "notes.txt").read_text() == "mine"
    assert json.loads((out / RECORD_FILE).read_text())["result"]["steps"] == 2


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="needs a start-up failure: a CUDA device that is absent"
)
def test_failed_start_leaves_no_run_behind(tmp_path):
    with pytest.raises((RuntimeError, AssertionError)):
        main(_cfg(tmp_path / "m", steps=2, checkpoint_every=0, device="cuda"))
    assert not (tmp_path / "m" / "run_config.json").exists()
    main(_cfg(tmp_path / "m", steps=2, checkpoint_every=0))  # no --overwrite needed


def test_config_from_yaml_parses_lists_and_mixture(tmp_path):
    recipe = tmp_path / "pretrain.yaml"
    recipe.write_text("out_dir: m\ntasks: arith,maze\nmixture: trace=1,answer=1\nsteps: 5\n")
    cfg = PretrainConfig.from_yaml(recipe, steps=7)
    assert cfg.tasks == ["arith", "maze"] and cfg.mixture["answer"] == 1.0 and cfg.steps == 7
    recipe.write_text("out_dir: m\nstep: 5\n")
    with pytest.raises(ValueError, match=f"^{recipe}: step: unknown PretrainConfig field"):
        PretrainConfig.from_yaml(recipe)
