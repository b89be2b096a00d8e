"""SFT on TRL: the first step's loss against a direct forward pass, masks and counts, parameters, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from train_helpers import TINY, loads_in_fresh_process
from train_helpers import curves as read_curves

from reasonsift.data.io import write_examples
from reasonsift.models.load import load
from reasonsift.profile.render import Renderer
from reasonsift.tasks import get_task
from reasonsift.train.common import COST_FILE, CURVES_FILE, MERGED_DIR, MODEL_DIR
from reasonsift.train.sft import (
    Collator,
    SFTRunConfig,
    build_rows,
    loss_mask,
    main,
)

N = 4


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("sft") / "arith.jsonl"
    write_examples(get_task("arith").generate(N), p)
    return p


def _cfg(data, out, **kw) -> SFTRunConfig:
    base = {"model": str(TINY), "data": str(data), "out_dir": str(out), "batch_size": N, "max_steps": 1}
    return SFTRunConfig(**{**base, **kw})


def _reference(data: Path, mask: str, normalize: str, rho: float = 0.2) -> tuple[float, int]:
    """Per example, unpadded: NLL of each completion token from a direct forward pass; the forking mask is
    H >= torch.quantile(H of the completion, 1 - rho) with H of the distribution predicting the token."""
    from reasonsift.data.io import read_examples

    model, tok = load(TINY, device="cpu", dtype="float32")
    total, n_sel, n_comp = 0.0, 0, 0
    for ex in read_examples(data).examples:
        r = Renderer(tok).example(ex)
        ids = torch.tensor([r.input_ids])
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=ids).logits[0].double(), -1)
        pos = list(range(r.score_start, len(r)))  # completion tokens; logp[t - 1] predicts token t
        nll = [-float(logp[t - 1, r.input_ids[t]]) for t in pos]
        ent = torch.tensor([-float((logp[t - 1].exp() * logp[t - 1]).sum()) for t in pos])
        keep = [True] * len(pos)
        if mask == "forking":
            tau = torch.quantile(ent, 1 - rho)
            keep = (ent >= tau).tolist()
        total += sum(x for x, k in zip(nll, keep, strict=True) if k)
        n_sel += sum(keep)
        n_comp += len(pos)
    return total / (n_comp if normalize == "all" else n_sel), n_sel


@pytest.mark.parametrize(
    "mask,normalize", [("completion", "all"), ("forking", "all"), ("forking", "selected"), ("random", "all")]
)
def test_first_step_loss_is_the_masked_nll_of_a_direct_forward_pass(data, tmp_path, mask, normalize):
    main(_cfg(data, tmp_path / "run", mask=mask, normalize=normalize))
    first = read_curves(tmp_path / "run")[0]
    ref_mask = "completion" if mask == "completion" else "forking"
    want, n_sel = _reference(data, ref_mask, normalize)
    assert first["tokens_in_loss"] == n_sel  # the random control: as many tokens as the forking mask
    if mask != "random":
        assert first["loss"] == pytest.approx(want, rel=1e-4)
    if mask == "forking" and normalize == "all":  # and it is not the plain completion loss
        assert first["loss"] < _reference(data, "completion", "all")[0]


def test_random_control_matches_forking_count_per_sequence(data):
    from reasonsift.data.io import read_examples
    from reasonsift.ops.loss_masks import entropy_from_logits

    model, tok = load(TINY, device="cpu", dtype="float32")
    batch = Collator(tok.pad_token_id)(build_rows(read_examples(data).examples, tok, 1024))
    with torch.no_grad():
        ent = entropy_from_logits(model(input_ids=batch["input_ids"]).logits[:, :-1])
    comp = batch["completion_mask"][:, 1:].bool()
    fork = loss_mask("forking", ent, comp, 0.2, "sequence")
    for seed in range(5):
        rand = loss_mask("random", ent, comp, 0.2, "sequence", torch.Generator().manual_seed(seed))
        assert rand.sum(1).tolist() == fork.sum(1).tolist()
        assert not (rand & ~comp).any()
    bottom = loss_mask("bottom", ent, comp, 0.2, "sequence")
    assert ((bottom | fork) == comp).all() and not (bottom & fork).any()


def test_full_run_changes_every_parameter_and_writes_the_run(data, tmp_path):
    out = tmp_path / "run"
    cost = main(_cfg(data, out, mask="forking", max_steps=2, batch_size=2, lr=1e-3))
    curves = read_curves(out)
    assert [e["step"] for e in curves] == [1, 2]
    for e in curves:
        assert {"step", "loss", "tokens_in_loss", "completion_tokens", "lr", "grad_norm"} <= set(e)
        assert 0 < e["tokens_in_loss"] < e["completion_tokens"]
    before = load_file(str(TINY / "model.safetensors"))
    after = load_file(str(out / MODEL_DIR / "model.safetensors"))
    assert set(before) == set(after)
    assert [k for k in before if torch.equal(before[k], after[k])] == []
    saved = json.loads((out / COST_FILE).read_text())
    assert saved["tokens_in_loss"] == sum(e["tokens_in_loss"] for e in curves) == cost["tokens_in_loss"]
    assert saved["trainable_parameters"] == saved["n_parameters"] > 0
    assert saved["flops_estimate"] == 6 * saved["trainable_parameters"] * saved["tokens_seen"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stage"] == "sft" and manifest["models"]["student"]["files_sha256"]
    assert manifest["inputs"][0]["sha256"]
    loads_in_fresh_process(out / MODEL_DIR)


def test_lora_changes_only_adapter_weights_and_merges(data, tmp_path):
    out = tmp_path / "run"
    cost = main(_cfg(data, out, mask="random", lora=True, max_steps=2, batch_size=2, lr=1e-3))
    assert 0 < cost["trainable_parameters"] < cost["n_parameters"]
    adapter = load_file(str(out / MODEL_DIR / "adapter_model.safetensors"))
    assert adapter and all("lora_" in k for k in adapter)
    b = [v for k, v in adapter.items() if "lora_B" in k]
    assert b and all(v.abs().sum() > 0 for v in b)  # lora_B starts at zero: every one moved
    before = load_file(str(TINY / "model.safetensors"))
    merged = load_file(str(out / MERGED_DIR / "model.safetensors"))
    assert set(before) == set(merged)
    changed = {k for k in before if not torch.equal(before[k], merged[k])}
    assert changed and all(k.endswith("proj.weight") for k in changed)  # embeddings, norms, head: frozen
    loads_in_fresh_process(out / MERGED_DIR)
    loads_in_fresh_process(out / MODEL_DIR, adapter=True)


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match="^mask:"):
        SFTRunConfig(mask="top")
    with pytest.raises(ValueError, match="^normalize:"):
        SFTRunConfig(normalize="tokens")
    with pytest.raises(ValueError, match="^rho:"):
        SFTRunConfig(rho=0.0)
    with pytest.raises(ValueError, match="^max_steps:"):
        SFTRunConfig(max_steps=0)


def test_forking_mask_from_a_profile_run_gives_the_same_first_step(data, tmp_path):
    from reasonsift.profile.config import ProfileConfig
    from reasonsift.profile.engine import run_profile

    prof = tmp_path / "prof"
    run_profile(
        ProfileConfig(
            data=str(data), model=str(TINY), out_dir=str(prof), ifd=False, infogain=False, progress=False
        )
    )
    main(_cfg(data, tmp_path / "run", mask="forking", profile=str(prof)))
    first = read_curves(tmp_path / "run")[0]
    want, n_sel = _reference(data, "forking", "all")
    assert first["tokens_in_loss"] == n_sel
    assert first["loss"] == pytest.approx(want, rel=1e-4)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert str(prof.resolve()) in manifest["parents"]
    other = tmp_path / "other.jsonl"
    write_examples(get_task("arith").generate(N, seed=1), other)
    with pytest.raises(ValueError, match="^profile: example"):
        main(_cfg(other, tmp_path / "run2", mask="forking", profile=str(prof)))


def test_killed_run_resumed_gives_the_same_curve(data, tmp_path):
    out = tmp_path / "run"
    cfg = {"mask": "random", "max_steps": 4, "batch_size": 2, "save_every": 2, "lr": 1e-3}
    main(_cfg(data, out, **cfg))
    full = read_curves(out)
    # as if killed after the checkpoint at step 2: later checkpoints and the manifest never written
    import shutil

    shutil.rmtree(out / "checkpoints" / "checkpoint-4")
    (out / "manifest.json").unlink()
    # mark the lines up to the checkpoint: a resumed run keeps them (and does not retrain steps 1-2)
    marked = [{**e, "kept": True} if e["step"] <= 2 else e for e in full]
    (out / CURVES_FILE).write_text("".join(json.dumps(e) + "\n" for e in marked))
    with pytest.raises(ValueError, match="^out_dir: .* already holds a sft run"):
        main(_cfg(data, out, **cfg))
    main(_cfg(data, out, **cfg, resume=True))
    resumed = read_curves(out)
    assert [e["step"] for e in resumed] == [1, 2, 3, 4]
    assert [e.get("kept", False) for e in resumed] == [True, True, False, False]
    for a, b in zip(full, resumed, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
        assert a["tokens_in_loss"] == b["tokens_in_loss"]
    with pytest.raises(ValueError, match="^rho: differs"):
        main(_cfg(data, out, **cfg, rho=0.5, resume=True))


def test_report_to_tensorboard_writes_event_files(data, tmp_path):
    pytest.importorskip("tensorboard")
    out = tmp_path / "run"
    main(_cfg(data, out, report_to="tensorboard"))
    assert list((out / "checkpoints" / "runs").rglob("events.out.tfevents.*"))
