"""What `train sft` and `train grpo` share: the LoRA preset, checkpoints and resume, the curves file, the
exported model and the cost record (docs/train.md)."""

from __future__ import annotations

import json
import math
import time
import warnings
from pathlib import Path
from typing import Any

import torch

from reasonsift.utils.io import atomic_write_text

CURVES_FILE = "curves.jsonl"
COST_FILE = "cost.json"
MODEL_DIR = "model"
MERGED_DIR = "model-merged"
CHECKPOINTS = "checkpoints"
OUTPUTS = (CURVES_FILE, COST_FILE, MODEL_DIR, MERGED_DIR, CHECKPOINTS)
LR_SCHEDULERS = ("linear", "cosine", "constant")
# TRL passes transformers' renamed `gradient_checkpointing*` arguments on every trainer start: not ours to fix,
# and one FutureWarning per arm of a re-test buries the output.
warnings.filterwarnings(
    "ignore", message=r"`(is_)?gradient_checkpointing\w*` is deprecated", category=FutureWarning
)

# Tina (arXiv 2504.15777): LoRA rank 32, alpha 128, on every linear projection.
LORA_R, LORA_ALPHA = 32, 128


def check_common(cfg) -> None:
    """Checks of the options every trainer has (``max_steps``, ``batch_size``, ``lr``, ``lr_scheduler``,
    ``warmup_steps``, ``save_every``, ``resume``/``overwrite``)."""
    for name in ("max_steps", "batch_size", "save_every"):
        if getattr(cfg, name) < 1:
            raise ValueError(f"{name}: expected >= 1, got {getattr(cfg, name)}")
    if not cfg.lr > 0:
        raise ValueError(f"lr: expected > 0, got {cfg.lr}")
    if cfg.lr_scheduler not in LR_SCHEDULERS:
        raise ValueError(
            f"lr_scheduler: expected one of {', '.join(LR_SCHEDULERS)}, got {cfg.lr_scheduler!r}"
        )
    if cfg.warmup_steps < 0:
        raise ValueError(f"warmup_steps: expected >= 0, got {cfg.warmup_steps}")
    if not cfg.report_to.strip():
        raise ValueError("report_to: expected 'none' or integrations such as 'tensorboard' or 'wandb'")
    if cfg.resume and cfg.overwrite:
        raise ValueError("resume: --resume and --overwrite exclude each other")


def resolve_device(device: str) -> str:
    return device if device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")


def trainer_args(cfg, out: Path, device: str) -> dict[str, Any]:
    """The ``TrainingArguments`` fields both trainers set the same way."""
    report = [r.strip() for r in cfg.report_to.split(",") if r.strip()]
    return {
        "output_dir": str(out / CHECKPOINTS),
        "max_steps": cfg.max_steps,
        "per_device_train_batch_size": cfg.batch_size,
        "learning_rate": cfg.lr,
        "weight_decay": cfg.weight_decay,
        "max_grad_norm": cfg.max_grad_norm,
        "lr_scheduler_type": cfg.lr_scheduler if cfg.lr_scheduler != "constant" else "constant_with_warmup",
        "warmup_steps": cfg.warmup_steps,
        "seed": cfg.seed,
        "data_seed": cfg.seed,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": cfg.save_every,
        # tensorboard writes under RUN/checkpoints/runs/ (transformers' default; TENSORBOARD_LOGGING_DIR)
        "report_to": "none" if report == ["none"] else report,
        "use_cpu": device == "cpu",
        "bf16": False,
        "dataloader_num_workers": 0,
        "dataloader_pin_memory": device != "cpu",
        "disable_tqdm": True,
    }


def lora_config():
    """The Tina preset: r 32, alpha 128, dropout 0, every linear projection (not the LM head)."""
    from peft import LoraConfig

    return LoraConfig(
        r=LORA_R, lora_alpha=LORA_ALPHA, target_modules="all-linear", lora_dropout=0.0, task_type="CAUSAL_LM"
    )


def absolute_base(model, path: str) -> None:
    """An adapter names its base by ``_name_or_path``: make a local path absolute so it loads from anywhere."""
    if Path(path).is_dir():
        model.config._name_or_path = str(Path(path).resolve())


def resume_point(out: Path, resume: bool) -> tuple[str | None, int]:
    """The checkpoint ``--resume`` continues from (None for a fresh run) and its step; curves after that step
    are dropped, since the resumed run writes them again."""
    ckpts = sorted((out / CHECKPOINTS).glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    last = ckpts[-1] if resume and ckpts else None
    step = int(last.name.split("-")[1]) if last else 0
    truncate_curves(out / CURVES_FILE, step)
    return (str(last) if last else None), step


def truncate_curves(path: Path, upto: int) -> None:
    """Keep the curve lines up to step ``upto`` (a resumed run rewrites what came after its checkpoint)."""
    if not path.exists():
        return
    kept = [x for x in path.read_text().splitlines() if x and json.loads(x)["step"] <= upto]
    atomic_write_text(path, "".join(x + "\n" for x in kept))


def append_curve(path: Path, entry: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")


def read_curves(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines() if x] if path.exists() else []


def train_to_end(
    trainer, tok, run, cfg, *, stage: str, out: Path, device: str, resume_from: str | None, model_in: dict,
    inputs: dict[str, dict], resolved: dict[str, Any] | None = None, cost_extra=None,
) -> dict[str, Any]:  # fmt: skip
    """Train (``curves.jsonl`` is the log: no dict per step on stdout), export the model, write ``cost.json``
    and the manifest; return the cost record. ``cost_extra(curves)`` adds a trainer's own cost fields."""
    from transformers.trainer_callback import PrinterCallback

    from reasonsift.run import MANIFEST_FILE, build_manifest

    trainer.remove_callback(PrinterCallback)
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    t0 = time.perf_counter()
    trainer.train(resume_from_checkpoint=resume_from)
    wall = time.perf_counter() - t0
    trained = export(trainer, tok, out, cfg.lora)
    log = read_curves(out / CURVES_FILE)
    n_params = sum(p.numel() for p in trained.parameters())
    cost = cost_record(log, wall, device, trainable, n_params, **(cost_extra(log) if cost_extra else {}))
    run.write_json(COST_FILE, cost)
    manifest = build_manifest(
        stage,
        cfg.to_dict(),
        models={"student": model_in},
        inputs=list(inputs.values()),
        resolved={"device": device, **(resolved or {})},
        result=cost,
    )
    run.write_json(MANIFEST_FILE, manifest)
    return cost


def export(trainer, tok, out: Path, lora: bool):
    """``RUN/model`` (the full model, or the adapter) and with LoRA ``RUN/model-merged``; returns the model."""
    trained = trainer.model
    if not trainer.is_world_process_zero():  # one writer under accelerate launch
        return trained
    trained.save_pretrained(out / MODEL_DIR)
    tok.save_pretrained(out / MODEL_DIR)
    if lora:
        merged = trained.merge_and_unload()
        merged.save_pretrained(out / MERGED_DIR)
        tok.save_pretrained(out / MERGED_DIR)
    return trained


def cost_record(
    log: list[dict[str, Any]], wall: float, device: str, trainable: int, n_parameters: int, **extra: Any
) -> dict[str, Any]:
    """The cost figures of a run from its curves: tokens seen and in the loss, wall time, device-hours, FLOPs."""
    seen = sum(e["tokens"] for e in log)
    n_dev = max(1, torch.cuda.device_count()) if device != "cpu" else 1
    return {
        "steps": len(log),
        "tokens_seen": seen,
        "tokens_in_loss": sum(e["tokens_in_loss"] for e in log),
        "completion_tokens": sum(e["completion_tokens"] for e in log),
        "wall_s": round(wall, 3),  # this process only (a resumed run adds its own)
        "device": device,
        "device_hours": wall * n_dev / 3600,
        # 6 N T (Kaplan et al., arXiv 2001.08361) with N = trainable parameters: forward and backward of the
        # trained weights only. It undercounts LoRA, whose frozen base still runs forward (2 N_frozen T) and
        # backward through activations; n_parameters lets a reader add that.
        "flops_estimate": 6 * trainable * seen,
        "trainable_parameters": trainable,
        "n_parameters": n_parameters,
        "final_loss": log[-1]["loss"] if log else math.nan,
        **extra,
    }


def as_float(x: Any) -> float | None:
    return None if x is None else float(x)
