"""Supervised fine-tuning on TRL's ``SFTTrainer``, completion-only, with forking-token and control masks.

The data is rendered once by :class:`reasonsift.profile.render.Renderer` (user turn = question, assistant =
``<think>trace</think>answer``: the rendering the profiler scores), so a profile's per-token entropies line
up with the training tokens. The loss is on the completion (positions from ``score_start``) by default;
``mask`` narrows it to the forking tokens (top ``rho`` by entropy), their complement (``bottom``) or a random
control with the same count per sequence (``random``), all from :mod:`reasonsift.ops.loss_masks`. Entropies
come from ``profile`` (a profile run of the student on the same rendering) when given, else are recomputed
from the current model's logits in the same forward pass, every step. ``normalize`` divides by all completion
tokens (the paper, arXiv 2506.01939) or by the selected tokens (its code).

``SFTTrainer`` is subclassed only to replace the loss (and to write ``curves.jsonl``); optimizer, schedule,
checkpoints (``RUN/checkpoints/checkpoint-N``, the standard HF layout), resume, PEFT and accelerate are TRL's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch

from reasonsift.ops.loss_masks import (
    LOSS_POOLS,
    NORMALIZERS,
    PAD_ENTROPY,
    bottom_mask,
    entropy_from_logits,
    forking_loss_mask,
    masked_loss,
    random_matched_mask,
)
from reasonsift.ops.masks import DEFAULT_RHO, check_rho
from reasonsift.run import (
    RunDir,
    StageConfig,
    input_record,
    model_identity,
    run_record,
)
from reasonsift.train.common import (
    CURVES_FILE,
    OUTPUTS,
    absolute_base,
    append_curve,
    as_float,
    check_common,
    lora_config,
    resolve_device,
    resume_point,
    train_to_end,
    trainer_args,
)

MASKS = ("completion", "forking", "bottom", "random")


@dataclass
class SFTRunConfig(StageConfig):
    RUNTIME_ONLY: ClassVar[tuple[str, ...]] = ("resume", "overwrite", "save_every", "device", "report_to")

    model: str = ""
    data: str = ""
    out_dir: str = ""
    mask: str = "completion"
    rho: float = DEFAULT_RHO  # share of completion tokens kept by the forking mask (arXiv 2506.01939)
    # forking pool: each sequence alone, this process's batch, or every process's batch (multi-GPU)
    pool: str = "sequence"
    profile: str | None = None  # profile run of the student: its entropies; None = recompute each step
    normalize: str = "all"  # all completion tokens, as the paper (arXiv 2506.01939); "selected" = its code
    lora: bool = False  # Tina preset: r 32, alpha 128, all linear projections
    max_steps: int = 100
    batch_size: int = 8
    lr: float = 1e-4
    lr_scheduler: str = "linear"  # decay to 0 over max_steps: linear, cosine, or constant
    warmup_steps: int = 0  # linear warm-up from 0 to lr over the first N steps
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    max_length: int = 1024  # longer renderings are an error, never silently cut
    seed: int = 0
    save_every: int = 50  # checkpoint every N steps (what --resume continues from)
    report_to: str = "none"  # TRL/transformers integrations, comma-separated: tensorboard, wandb, ...
    device: str = "auto"
    resume: bool = False
    overwrite: bool = False

    def __post_init__(self) -> None:
        if self.mask not in MASKS:
            raise ValueError(f"mask: expected one of {', '.join(MASKS)}, got {self.mask!r}")
        if self.normalize not in NORMALIZERS:
            raise ValueError(f"normalize: expected one of {', '.join(NORMALIZERS)}, got {self.normalize!r}")
        if self.pool not in LOSS_POOLS:
            raise ValueError(f"pool: expected one of {', '.join(LOSS_POOLS)}, got {self.pool!r}")
        check_rho(self.rho)
        if self.max_length < 1:
            raise ValueError(f"max_length: expected >= 1, got {self.max_length}")
        check_common(self)

    def validate(self) -> None:
        for name in ("model", "data", "out_dir"):
            if not getattr(self, name):
                raise ValueError(f"{name}: not given")


# -- data ----------------------------------------------------------------------------------------------


def build_rows(examples, tok, max_length: int, profile_entropy: dict[str, dict] | None = None) -> list[dict]:
    """One row per example: ``input_ids``, ``completion_mask`` (1 from ``score_start`` on) and, with a
    profile, ``entropy`` (per position: H of the distribution that predicts that token; 0 on the prompt)."""
    from reasonsift.profile.render import Renderer

    renderer = Renderer(tok)
    rows = []
    for ex in examples:
        r = renderer.example(ex)
        if len(r) > max_length:
            raise ValueError(f"max_length: example {ex.id!r} renders to {len(r)} tokens (> {max_length})")
        row = {
            "input_ids": r.input_ids,
            "completion_mask": [int(i >= r.score_start) for i in range(len(r))],
        }
        if profile_entropy is not None:
            p = profile_entropy.get(ex.id)
            if p is None:
                raise ValueError(f"profile: example {ex.id!r} is not in the profile run")
            if list(p["input_ids"]) != r.input_ids or p["score_start"] != r.score_start:
                raise ValueError(
                    f"profile: example {ex.id!r} was rendered differently in the profile run "
                    "(another tokenizer, template or truncation); profile the same model and data"
                )
            row["entropy"] = [0.0] * r.score_start + [float(h) for h in p["entropy"]]
        rows.append(row)
    return rows


def read_profile(path: str) -> dict[str, dict]:
    """``{id: {input_ids, score_start, entropy}}`` from a profile run's shards."""
    run = RunDir(path, stage="profile")
    if not run.exists():
        raise FileNotFoundError(f"profile: {path} holds no profile run")
    table = run.read(["id", "input_ids", "score_start", "entropy"]).to_pylist()
    return {r["id"]: r for r in table}


class Collator:
    """Right-pads a list of rows to ``[B, L]`` tensors: input_ids, attention_mask, completion_mask, labels
    (-100 outside the completion) and, when the rows have it, entropy."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        n = max(len(r["input_ids"]) for r in rows)

        def pad(key, value, dtype):
            return torch.tensor([list(r[key]) + [value] * (n - len(r[key])) for r in rows], dtype=dtype)

        ids = pad("input_ids", self.pad_id, torch.long)
        comp = pad("completion_mask", 0, torch.long)
        out = {
            "input_ids": ids,
            "attention_mask": torch.tensor([[1] * len(r["input_ids"]) + [0] * (n - len(r["input_ids"]))
                                            for r in rows]),
            "completion_mask": comp,
            "labels": ids.masked_fill(comp == 0, -100),
        }  # fmt: skip
        if "entropy" in rows[0]:
            out["entropy"] = pad("entropy", 0.0, torch.float32)
        return out


# -- the loss ------------------------------------------------------------------------------------------


def loss_mask(
    mask: str,
    entropy: torch.Tensor | None,
    completion: torch.Tensor,
    rho: float,
    pool: str,
    generator: torch.Generator | None = None,
    gather=None,
) -> torch.Tensor:
    """The tokens in the loss, ``[B, T]`` bool, from target-aligned ``entropy`` and ``completion`` ``[B, T]``;
    ``gather`` collects the ``global`` pool's entropies from every process."""
    completion = completion.bool()
    if mask == "completion":
        return completion
    forking = forking_loss_mask(entropy, completion, rho, pool, gather)
    if mask == "forking":
        return forking
    if mask == "bottom":
        return bottom_mask(forking, completion)
    return random_matched_mask(completion, forking.sum(1), generator)


def sft_loss(
    model, batch: dict[str, torch.Tensor], cfg: SFTRunConfig, step: int, gather=None
) -> tuple[torch.Tensor, dict]:
    """One forward pass and the masked loss. ``logits[:, t]`` predicts ``input_ids[:, t + 1]``: every mask is
    taken on the targets ``[:, 1:]``. Returns the loss and ``{tokens_in_loss, completion_tokens, tokens}``.
    ``gather``: the cross-process gather of the ``global`` pool (the trainer's accelerator)."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1]
    targets = batch["input_ids"][:, 1:]
    completion = batch["completion_mask"][:, 1:].bool()
    # One log-softmax serves the loss and the recomputed entropies (the forking mask's overhead is one pass
    # over the vocabulary, not two).
    logp = torch.log_softmax(logits.float(), dim=-1)
    entropy = None
    if cfg.mask != "completion":
        # A profile's entropy at token t is of the distribution that predicts t, i.e. logits[t - 1].
        if "entropy" in batch:
            entropy = batch["entropy"][:, 1:]
        else:
            entropy = entropy_from_logits(logp.detach(), log_probs=True)
    gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)  # the random control: seeded per step
    sel = loss_mask(cfg.mask, entropy, completion, cfg.rho, cfg.pool, gen, gather)
    loss = masked_loss(logp, targets, sel, completion, cfg.normalize, log_probs=True)
    counts = {
        "tokens_in_loss": int(sel.sum()),
        "completion_tokens": int(completion.sum()),
        "tokens": int(batch["attention_mask"].sum()),
    }
    return loss, counts


def make_trainer_class():
    from trl import SFTTrainer

    class MaskedSFTTrainer(SFTTrainer):
        """``SFTTrainer`` with the loss of :func:`sft_loss`; writes one ``curves.jsonl`` line per step."""

        def __init__(self, *a, run_cfg: SFTRunConfig, curves: Path, **kw):
            super().__init__(*a, **kw)
            self.run_cfg, self.curves_path = run_cfg, curves
            self._acc = {"loss": 0.0, "tokens_in_loss": 0, "completion_tokens": 0, "tokens": 0}
            self.totals = {"tokens": 0, "tokens_in_loss": 0, "completion_tokens": 0}

        def _gather(self, local: torch.Tensor) -> torch.Tensor:
            """Every process's values (padded with ``PAD_ENTROPY``), for the ``global`` forking pool."""
            acc = self.accelerator
            return acc.gather(acc.pad_across_processes(local, dim=0, pad_index=PAD_ENTROPY))

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            loss, counts = sft_loss(model, inputs, self.run_cfg, self.state.global_step, self._gather)
            if model.training:
                self._acc["loss"] += float(loss.detach()) / self.args.gradient_accumulation_steps
                for k, v in counts.items():
                    self._acc[k] += v
            return (loss, None) if return_outputs else loss

        def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
            if "loss" in logs and self.model.training:
                entry = {
                    "step": self.state.global_step,
                    "loss": self._acc["loss"],
                    "tokens_in_loss": self._acc["tokens_in_loss"],
                    "completion_tokens": self._acc["completion_tokens"],
                    "tokens": self._acc["tokens"],
                    "lr": logs.get("learning_rate"),
                    "grad_norm": as_float(logs.get("grad_norm")),
                }
                if self.is_world_process_zero():  # one curve, however many processes
                    append_curve(self.curves_path, entry)
                for k in self.totals:
                    self.totals[k] += self._acc[k]
                self._acc = dict.fromkeys(self._acc, 0)
                self._acc["loss"] = 0.0
            super().log(logs, start_time)

    return MaskedSFTTrainer


# -- main ----------------------------------------------------------------------------------------------


def main(cfg: SFTRunConfig) -> dict[str, Any]:
    """Train, write ``curves.jsonl``, ``cost.json``, ``model/`` (and ``model-merged/`` with LoRA) and the
    manifest in ``cfg.out_dir``; return the cost record."""
    cfg.validate()
    from datasets import Dataset
    from trl import SFTConfig

    from reasonsift.data.io import read_examples
    from reasonsift.models.load import load

    out = Path(cfg.out_dir)
    run = RunDir(out, stage="sft", outputs=OUTPUTS)
    inputs = {"data": input_record(cfg.data)}
    if cfg.profile:
        inputs["profile"] = input_record(cfg.profile)
    run.check(run_record("sft", cfg, inputs), resume=cfg.resume, overwrite=cfg.overwrite)
    model, tok = load(cfg.model, device="cpu", dtype="float32")
    model_in = model_identity(model, cfg.model, None)
    absolute_base(model, cfg.model)
    examples = read_examples(cfg.data).examples
    if not examples:
        raise ValueError(f"data: {cfg.data} holds no examples")
    prof = read_profile(cfg.profile) if cfg.profile and cfg.mask != "completion" else None
    rows = build_rows(examples, tok, cfg.max_length, prof)
    device = resolve_device(cfg.device)
    run.begin(run_record("sft", cfg, inputs), resume=cfg.resume, overwrite=cfg.overwrite)
    resume_from, _ = resume_point(out, cfg.resume)

    args = SFTConfig(
        **trainer_args(cfg, out, device),
        gradient_accumulation_steps=1,
        remove_unused_columns=False,
        dataset_kwargs={"skip_prepare_dataset": True},
        max_length=None,
    )
    trainer = make_trainer_class()(
        model=model,
        args=args,
        data_collator=Collator(tok.pad_token_id),
        train_dataset=Dataset.from_list(rows),
        processing_class=tok,
        peft_config=lora_config() if cfg.lora else None,
        run_cfg=cfg,
        curves=out / CURVES_FILE,
    )
    return train_to_end(
        trainer, tok, run, cfg, stage="sft", out=out, device=device, resume_from=resume_from,
        model_in=model_in, inputs=inputs,
    )  # fmt: skip
