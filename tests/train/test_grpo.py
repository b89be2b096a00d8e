"""GRPO on TRL: the token masks and normalisers against a direct forward pass, rewards, the run, resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from train_helpers import TINY, loads_in_fresh_process
from train_helpers import curves as read_curves

from reasonsift.data.io import write_examples
from reasonsift.data.render import completion_text
from reasonsift.evaluate.accuracy import default_max_new_tokens
from reasonsift.models.load import load
from reasonsift.tasks import get_task
from reasonsift.train.common import COST_FILE, MERGED_DIR, MODEL_DIR
from reasonsift.train.grpo import (
    GRPORunConfig,
    VerifierReward,
    build_trainer,
    entropy_percentiles,
    main,
    prompt_rows,
    select_tokens,
    selected_weights,
)

G = 4  # completions per prompt in these tests


def _cfg(out: Path, **kw) -> GRPORunConfig:
    base = {
        "model": str(TINY), "task": "arith", "n_prompts": 8, "out_dir": str(out), "num_generations": G,
        "batch_size": 2 * G, "max_steps": 1, "lr": 1e-3, "overlap_every": 0,
    }  # fmt: skip
    return GRPORunConfig(**{**base, **kw})


# -- the pieces against plain references ---------------------------------------------------------------


def test_select_tokens_masks_and_the_random_control():
    comp = torch.tensor([[0, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0]]).bool()
    fork = torch.tensor([[0, 1, 0, 1, 0, 0], [0, 0, 1, 0, 0, 0]]).bool()
    assert torch.equal(select_tokens("all", fork, comp), comp)
    assert torch.equal(select_tokens("forking", fork, comp), fork)
    assert select_tokens("bottom", fork, comp).tolist() == [
        [False, False, True, False, True, False], [True, True, False, False, False, False]
    ]  # fmt: skip
    for seed in range(5):
        rand = select_tokens("random", fork, comp, torch.Generator().manual_seed(seed))
        assert rand.sum(1).tolist() == [2, 1] and not (rand & ~comp).any()


def test_selected_weights_turn_the_divisor_into_the_selected_tokens():
    comp = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    sel = torch.tensor([[1, 0, 0, 0], [1, 1, 0, 0]]).bool()
    loss = torch.tensor([[2.0, 5.0, 7.0, 1.0], [3.0, 4.0, 9.0, 9.0]])
    w = selected_weights(sel, comp, "grpo")  # per sequence: sum(w * l) / n_comp == sum(sel * l) / n_sel
    per_seq = (w * loss * comp).sum(1) / comp.sum(1)
    assert per_seq.tolist() == pytest.approx([2.0 / 1, (3.0 + 4.0) / 2])
    w = selected_weights(sel, comp, "bnpo")  # over the micro-batch
    assert float((w * loss * comp).sum() / comp.sum()) == pytest.approx((2.0 + 3.0 + 4.0) / 3)
    assert selected_weights(torch.zeros_like(sel), comp, "grpo").sum() == 0


def test_entropy_percentiles_are_torch_quantiles_of_the_completion():
    ent = torch.tensor([[0.1, 0.5, 9.0], [0.2, 0.3, 7.0]])
    comp = torch.tensor([[1, 1, 0], [1, 1, 1]]).bool()
    vals = [0.1, 0.5, 0.2, 0.3, 7.0]
    got = entropy_percentiles(ent, comp)
    for p in (10, 50, 90):
        assert got[f"entropy_p{p}"] == pytest.approx(float(torch.quantile(torch.tensor(vals), p / 100)))
    assert entropy_percentiles(ent, torch.zeros_like(comp))["entropy_p50"] is None


def test_reward_is_the_verifier_outcome_and_counts_states():
    ex = get_task("arith").generate(1)[0]
    rows = prompt_rows([ex])
    right, wrong, none = completion_text(ex), f"<think>1+1=2</think>{int(ex.answer) + 1}", "<think>1+1"
    reward = VerifierReward(format_reward=0.25)
    comps = [[{"role": "assistant", "content": c}] for c in (right, wrong, none)]
    assert reward(None, comps, example=[rows[0]["example"]] * 3) == [1.25, 0.25, 0.0]
    assert reward.take() == {"correct": 1, "wrong": 1, "no_answer": 1, "timeout": 0, "error": 0}
    assert reward.take()["correct"] == 0  # taken: counts start again
    assert VerifierReward()(None, [right, wrong], example=[rows[0]["example"]] * 2) == [1.0, 0.0]


# -- the loss inside TRL against a direct forward pass -------------------------------------------------


def _batch(cfg: GRPORunConfig, tmp_path: Path, n_prompts: int = 2):
    """A trainer and one scored generation batch (as TRL's repeat sampler feeds it: G copies per prompt)."""
    model, tok = load(TINY, device="cpu", dtype="float32")
    exs = get_task("arith").generate(n_prompts, seed=3)
    reward = VerifierReward()
    trainer = build_trainer(cfg, model, tok, exs, tmp_path, "cpu", default_max_new_tokens(tok, exs), reward)
    trainer.model.train()
    trainer.current_gradient_accumulation_steps = 1
    torch.manual_seed(0)
    rows = [r for r in prompt_rows(exs) for _ in range(cfg.num_generations)]
    return trainer, trainer._generate_and_score_completions(rows)


def _reference_entropies(model, batch) -> list[torch.Tensor]:
    """Per completion, unpadded: H of the distribution predicting each completion token (float64)."""
    out = []
    for p_ids, p_m, c_ids, c_m in zip(
        batch["prompt_ids"],
        batch["prompt_mask"],
        batch["completion_ids"],
        batch["completion_mask"],
        strict=True,
    ):
        p, c = p_ids[p_m.bool()], c_ids[c_m.bool()]
        ids = torch.cat([p, c])[None]
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=ids).logits[0].double(), -1)
        rows = logp[len(p) - 1 : len(p) - 1 + len(c)]
        out.append(-(rows.exp() * rows).sum(-1))
    return out


def _reference_mask(ents: list[torch.Tensor], pool: str, rho: float) -> list[torch.Tensor]:
    if pool == "sequence":
        return [e >= torch.quantile(e, 1 - rho) for e in ents]
    tau = torch.quantile(torch.cat(ents), 1 - rho)
    return [e >= tau for e in ents]


@pytest.mark.parametrize(
    "mask,pool,normalize",
    [
        ("all", "micro-batch", "all"),
        ("forking", "micro-batch", "all"),
        ("forking", "sequence", "all"),
        ("forking", "micro-batch", "selected"),
        ("bottom", "sequence", "all"),
        ("random", "micro-batch", "all"),
    ],
)
def test_the_mask_and_loss_inside_trl_match_a_direct_forward_pass(tmp_path, mask, pool, normalize):
    cfg = _cfg(tmp_path / "run", mask=mask, pool=pool, normalize=normalize)
    trainer, batch = _batch(cfg, tmp_path)
    seen = {}
    hook = trainer.get_high_entropy_mask

    def spy(entropies, m, threshold):
        seen["mask"] = hook(entropies, m, threshold)
        return seen["mask"]

    trainer.get_high_entropy_mask = spy
    loss = float(trainer._compute_loss(trainer.model, batch).detach())
    got = seen["mask"]
    comp = batch["completion_mask"].bool()
    ents = _reference_entropies(trainer.model, batch)
    fork = _reference_mask(ents, pool, cfg.rho)
    sel_rows = got[comp.bool()].split(comp.sum(1).tolist())
    for b, (f, g) in enumerate(zip(fork, sel_rows, strict=True)):
        if mask == "forking":
            assert torch.equal(g.bool(), f), b
        elif mask == "bottom":
            assert torch.equal(g.bool(), ~f), b
        elif mask == "random":
            assert int(g.bool().sum()) == int(f.sum()), b  # as many as forking keeps, per sequence
        else:
            assert bool(g.all()), b
    # num_iterations 1: the ratio is 1, so TRL's per-token loss is -A on the tokens in the mask; dapo divides
    # the sum by every completion token of the step ("all") or, with "selected", by the selected ones.
    adv = batch["advantages"]
    n_sel = torch.stack([g.bool().sum() for g in sel_rows]).double()
    divisor = n_sel.sum() if normalize == "selected" and mask != "all" else comp.sum()
    assert loss == pytest.approx(float(-(adv.double() * n_sel).sum() / divisor), abs=1e-6)


def test_micro_batch_pool_is_trls_own_top_entropy_quantile(tmp_path):
    from trl import GRPOTrainer

    trainer, batch = _batch(_cfg(tmp_path / "run", mask="forking"), tmp_path)
    ent = torch.rand(batch["completion_mask"].shape, generator=torch.Generator().manual_seed(1))
    ours = trainer.get_high_entropy_mask(ent, batch["completion_mask"], 0.5)  # threshold: ours uses rho
    trl = GRPOTrainer.get_high_entropy_mask(trainer, ent, batch["completion_mask"], 1 - 0.2)
    assert torch.equal(ours, trl)


def test_batch_pool_takes_tau_over_the_whole_optimizer_step(tmp_path):
    cfg = _cfg(tmp_path / "run", mask="forking", pool="batch", batch_size=G, grad_accum=2)
    trainer, batch = _batch(cfg, tmp_path)  # 2 prompts x G = both micro-batches of the step
    ents = _reference_entropies(trainer.model, batch)
    tau = torch.quantile(torch.cat(ents), 1 - cfg.rho)
    assert batch["entropy_tau"].shape == (2 * G,)
    assert float(batch["entropy_tau"][0]) == pytest.approx(float(tau), rel=1e-4, abs=2e-5)  # float32 vs 64


# -- runs ----------------------------------------------------------------------------------------------


def test_run_writes_curves_cost_model_and_changes_parameters(tmp_path):
    out = tmp_path / "run"
    cost = main(_cfg(out, mask="forking", max_steps=2, overlap_every=1))
    curves = read_curves(out)
    assert [e["step"] for e in curves] == [1, 2]
    keys = {"step", "loss", "tokens_in_loss", "completion_tokens", "lr", "grad_norm", "reward", "kept_fraction",
            "entropy_p10", "entropy_p50", "entropy_p90", "forking_overlap", "outcomes"}  # fmt: skip
    for e in curves:
        assert keys <= set(e)
        assert 0 < e["tokens_in_loss"] < e["completion_tokens"]
        assert e["kept_fraction"] == pytest.approx(e["tokens_in_loss"] / e["completion_tokens"])
        assert sum(e["outcomes"].values()) == 2 * G
        assert 0.0 <= e["reward"] <= 1.0
        assert e["reward"] == pytest.approx(e["outcomes"]["correct"] / (2 * G))
        assert 0.0 <= e["forking_overlap"] <= 1.0
    assert curves[0]["forking_overlap"] == 1.0  # step 1: the policy is still the starting model
    saved = json.loads((out / COST_FILE).read_text())
    assert saved == pytest.approx(cost)
    assert saved["completions"] == 2 * 2 * G
    assert saved["flops_estimate"] == 6 * saved["trainable_parameters"] * saved["tokens_seen"]
    before = load_file(str(TINY / "model.safetensors"))
    after = load_file(str(out / MODEL_DIR / "model.safetensors"))
    assert set(before) == set(after) and any(not torch.equal(before[k], after[k]) for k in before)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stage"] == "grpo" and manifest["resolved"]["max_completion_length"] > 0
    loads_in_fresh_process(out / MODEL_DIR)


def test_lora_run_exports_an_adapter_and_a_merged_model(tmp_path):
    out = tmp_path / "run"
    cost = main(_cfg(out, lora=True, max_steps=1, overlap_every=1))
    assert 0 < cost["trainable_parameters"] < cost["n_parameters"]
    assert read_curves(out)[0]["forking_overlap"] == 1.0  # the adapter disabled = the starting model
    adapter = load_file(str(out / MODEL_DIR / "adapter_model.safetensors"))
    assert adapter and all("lora_" in k for k in adapter)
    loads_in_fresh_process(out / MERGED_DIR)
    loads_in_fresh_process(out / MODEL_DIR, adapter=True)


def test_data_file_prompts_and_missing_answers(tmp_path):
    data = tmp_path / "a.jsonl"
    write_examples(get_task("arith").generate(4, seed=5), data)
    cost = main(_cfg(tmp_path / "run", task=None, data=str(data), max_steps=1))
    assert cost["completions"] == 2 * G
    bad = tmp_path / "bad.jsonl"
    rows = [json.loads(x) for x in data.read_text().splitlines()]
    rows[2]["answer"] = " "
    bad.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(ValueError, match="answer"):
        main(_cfg(tmp_path / "run2", task=None, data=str(bad)))


def test_killed_run_resumed_gives_the_same_curve(tmp_path):
    out = tmp_path / "run"
    cfg = {"mask": "random", "max_steps": 4, "save_every": 2}
    main(_cfg(out, **cfg))
    full = read_curves(out)
    shutil.rmtree(out / "checkpoints" / "checkpoint-4")
    (out / "manifest.json").unlink()
    main(_cfg(out, **cfg, resume=True))
    resumed = read_curves(out)
    assert [e["step"] for e in resumed] == [1, 2, 3, 4]
    for a, b in zip(full, resumed, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5, abs=1e-7)
        assert a["tokens_in_loss"] == b["tokens_in_loss"] and a["outcomes"] == b["outcomes"]


def test_config_errors_name_the_field():
    for kw, field in [
        ({"mask": "top"}, "mask"), ({"pool": "dataset"}, "pool"), ({"loss_type": "ppo"}, "loss_type"),
        ({"num_generations": 1}, "num_generations"), ({"batch_size": 10}, "batch_size"),
        ({"temperature": 0.0}, "temperature"), ({"rho": 0.0}, "rho"), ({"lr_scheduler": "step"}, "lr_scheduler"),
        ({"mask": "forking", "normalize": "selected", "loss_type": "dr_grpo"}, "normalize"),
    ]:  # fmt: skip
        with pytest.raises(ValueError, match=f"^{field}:"):
            GRPORunConfig(**kw)
    with pytest.raises(ValueError, match="^task: give exactly one"):
        GRPORunConfig(model="m", out_dir="o").validate()


def test_cli_needs_a_task_or_data_and_names_the_option(tmp_path):
    from typer.testing import CliRunner

    from reasonsift.cli import app

    res = CliRunner().invoke(app, ["train", "grpo", "-m", str(TINY), "-o", str(tmp_path / "r")])
    assert res.exit_code == 1 and "--task: give exactly one of --task and --data" in res.output
    res = CliRunner().invoke(
        app,
        ["train", "grpo", "-m", str(TINY), "--task", "arith", "--batch-size", "6", "-o", str(tmp_path / "r")],
    )
    assert res.exit_code == 1 and "--batch-size: 6 completions is not a multiple" in res.output
    assert not (tmp_path / "r").exists()
