"""Pretrain the built-in tiny model from scratch on a mixture of built-in tasks.

A short plain-PyTorch loop (AdamW, linear warmup + cosine decay, gradient clipping, seeded) — the model is a
stock ``LlamaForCausalLM``, so the result is a normal Hugging Face model directory. Documents come from
:mod:`reasonsift.train.mixture`; the loss is on all real tokens by default (a base model learns the whole
document, question included) or on the assistant turn only (``loss_on="assistant"``).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
import transformers
from rich.progress import Progress, TextColumn
from transformers import get_cosine_schedule_with_warmup

from reasonsift.models.card import model_card
from reasonsift.models.load import check_device
from reasonsift.models.tiny import TinySpec, build_tiny_model, count_parameters, greedy_generation_config
from reasonsift.models.tokenizer import ASSISTANT, build_tokenizer
from reasonsift.run import MANIFEST_FILE, RunDir, StageConfig, build_manifest, model_identity, run_record
from reasonsift.tasks import get_task
from reasonsift.train.checkpoint import checkpoint_dirs, load_checkpoint, save_checkpoint
from reasonsift.train.mixture import batch_documents, chain_hash, check_mixture, parse_mixture
from reasonsift.utils.io import atomic_write_text
from reasonsift.utils.progress import progress

RECORD_FILE = "reasonsift_pretrain.json"
LOG_FILE = "train_log.jsonl"
LOSS_ON = ("all", "assistant")
# The output directory is a Hugging Face model directory, whose config.json is the model's: the run's
# resolved config (what --resume compares) goes to run_config.json instead.
RUN_CONFIG_FILE = "run_config.json"
# What a pretraining run writes (removed by --overwrite; anything else in the directory is left alone).
OUTPUTS = ("checkpoints", LOG_FILE, RECORD_FILE, "README.md", "config.json", "generation_config.json")
OUTPUTS += ("model.safetensors", "tokenizer*", "special_tokens_map.json", "chat_template.jinja")


@dataclass
class PretrainConfig(StageConfig):
    # Options that change no weight: free to differ on --resume.
    RUNTIME_ONLY: ClassVar[tuple[str, ...]] = (
        "resume", "overwrite", "progress", "device", "checkpoint_every", "keep_checkpoints", "log_every",
        "eval_every", "eval_n", "name",
    )  # fmt: skip

    out_dir: str = ""
    tasks: list[str] = field(default_factory=lambda: ["arith"])
    steps: int = 3000  # accuracy sits near zero for ~1k steps, then climbs: shorter runs look broken
    seed: int = 0
    mixture: dict[str, float] = field(
        default_factory=lambda: {"trace": 1.0, "answer": 0.0, "trace_only": 0.0}
    )
    batch_size: int = 32  # documents per step
    lr: float = 2e-3  # tiny models tolerate (and need) a high rate
    warmup_steps: int = 100
    weight_decay: float = 0.1
    max_grad_norm: float = 1.0
    difficulty: int | None = None  # None: each task's default
    loss_on: str = "all"
    hidden_size: int = 128
    num_layers: int = 4
    num_heads: int = 4
    intermediate_size: int = 512
    max_length: int = 512  # also the model's context length
    checkpoint_every: int = 500  # 0: no intermediate checkpoints
    keep_checkpoints: int = 2  # 0: keep all
    resume: bool = False
    overwrite: bool = False
    eval_every: int = 0  # 0: no accuracy during training
    eval_n: int = 100
    log_every: int = 10
    device: str = "auto"
    progress: bool = True
    name: str = ""  # model card title

    def __post_init__(self) -> None:
        if isinstance(self.tasks, str):
            self.tasks = [t.strip() for t in self.tasks.split(",") if t.strip()]
        self.tasks = [t.strip() for item in self.tasks for t in item.split(",") if t.strip()]
        if isinstance(self.mixture, str):
            self.mixture = parse_mixture(self.mixture)

    def validate(self) -> None:
        if not self.out_dir:
            raise ValueError("out_dir: no output directory given")
        if self.resume and self.overwrite:
            raise ValueError("resume: --resume and --overwrite exclude each other")
        if not self.tasks:
            raise ValueError("tasks: at least one task is needed")
        for t in self.tasks:
            get_task(t)  # raises ValueError naming the unknown task
        check_mixture(self.mixture)
        for name in ("steps", "batch_size", "max_length", "log_every", "eval_n"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: expected >= 1, got {getattr(self, name)}")
        for name in ("warmup_steps", "checkpoint_every", "keep_checkpoints", "eval_every"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: expected >= 0, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr: expected > 0, got {self.lr}")
        if self.loss_on not in LOSS_ON:
            raise ValueError(f"loss_on: unknown {self.loss_on!r}; expected one of {', '.join(LOSS_ON)}")
        check_device(self.device)
        self.spec()  # validates the shape

    def spec(self) -> TinySpec:
        return TinySpec(
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            num_heads=self.num_heads,
            intermediate_size=self.intermediate_size,
            max_position_embeddings=self.max_length,
        )


def make_labels(ids: torch.Tensor, mask: torch.Tensor, assistant_id: int | None) -> torch.Tensor:
    """Labels for causal-LM loss. ids, mask: (batch, length). Pads -> -100; with ``assistant_id`` also every
    position up to and including the first assistant marker (the prompt) -> -100."""
    labels = ids.masked_fill(mask == 0, -100)
    if assistant_id is not None:
        is_marker = (ids == assistant_id).int()
        # cumsum > 0 from the marker on; shift by one so the marker itself is masked too.
        after = (is_marker.cumsum(dim=1) - is_marker) > 0
        labels = labels.masked_fill(~after, -100)
    return labels


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _optimizer(model: torch.nn.Module, cfg: PretrainConfig) -> torch.optim.Optimizer:
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]  # norms: decaying gains only hurts
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr,
        betas=(0.9, 0.95),  # GPT-3 / Llama pretraining betas
    )


def _progress(enabled: bool) -> Progress:
    return progress(
        TextColumn("loss {task.fields[loss]:.3f}"),
        TextColumn("{task.fields[tps]:,.0f} tok/s"),
        description="pretrain",
        disable=not enabled,
    )


def main(cfg: PretrainConfig) -> dict[str, Any]:
    """Train, checkpoint, save the final HF model directory to ``cfg.out_dir``; return the run record."""
    cfg.validate()
    out = Path(cfg.out_dir)
    run = RunDir(out, stage="pretrain", outputs=OUTPUTS, config_file=RUN_CONFIG_FILE)
    run.check(run_record("pretrain", cfg), resume=cfg.resume, overwrite=cfg.overwrite)
    existing = checkpoint_dirs(out)
    if existing and not (cfg.resume or cfg.overwrite or run.exists()):  # checkpoints of an older version
        raise ValueError(
            f"out_dir: {out} already holds checkpoints (latest {existing[-1].name}); "
            "use --resume to continue, --overwrite, or another directory"
        )
    device = _device(cfg.device)
    resolved = {"precision": "bfloat16-autocast" if device.type == "cuda" else "float32"}
    tok = build_tokenizer(model_max_length=cfg.max_length)
    torch.manual_seed(cfg.seed)
    model = build_tiny_model(tok, cfg.spec(), seed=cfg.seed).to(device)
    model.train()
    opt = _optimizer(model, cfg)
    sched = get_cosine_schedule_with_warmup(opt, cfg.warmup_steps, cfg.steps)
    # Start-up passed: only now does the directory become a run (and an overwritten one is cleared).
    run.begin(run_record("pretrain", cfg, resolved=resolved), resume=cfg.resume, overwrite=cfg.overwrite)
    existing = checkpoint_dirs(out)
    loop: dict[str, Any] = {"step": 0, "data_hash": "", "tokens": 0, "wall_s": 0.0}
    if cfg.resume and existing:
        loop = load_checkpoint(existing[-1], model, opt, sched)
    log_path = out / LOG_FILE
    log = _read_log(log_path, upto=loop["step"])
    assistant_id = tok.convert_tokens_to_ids(ASSISTANT) if cfg.loss_on == "assistant" else None
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else _nullctx()

    loss_val = float("nan")
    with _progress(cfg.progress) as bar:
        task_id = bar.add_task(
            "pretrain", total=cfg.steps, completed=loop["step"], loss=float("nan"), tps=0.0
        )
        while loop["step"] < cfg.steps:
            t0 = time.perf_counter()
            step = loop["step"]
            docs = batch_documents(
                tok, cfg.tasks, cfg.mixture, seed=cfg.seed, step=step, batch_size=cfg.batch_size,
                difficulty=cfg.difficulty,
            )  # fmt: skip
            enc = tok(docs, padding=True, truncation=False, add_special_tokens=False, return_tensors="pt")
            if enc.input_ids.shape[1] > cfg.max_length:
                raise ValueError(
                    f"max_length: a document of {enc.input_ids.shape[1]} tokens exceeds {cfg.max_length}"
                )
            ids, mask = enc.input_ids.to(device), enc.attention_mask.to(device)
            with amp:
                loss = model(
                    input_ids=ids, attention_mask=mask, labels=make_labels(ids, mask, assistant_id)
                ).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            n_tok = int(mask.sum())
            dt = time.perf_counter() - t0
            loss_val = float(loss.detach())
            loop.update(
                step=step + 1,
                data_hash=chain_hash(loop["data_hash"], docs),
                tokens=loop["tokens"] + n_tok,
                wall_s=loop["wall_s"] + dt,
            )
            bar.update(task_id, advance=1, loss=loss_val, tps=n_tok / dt)
            entry: dict[str, Any] = {}
            if loop["step"] % cfg.log_every == 0 or loop["step"] == cfg.steps:
                entry = {"step": loop["step"], "loss": loss_val, "lr": sched.get_last_lr()[0]}
                entry.update(tokens=loop["tokens"], wall_s=round(loop["wall_s"], 3))
            if cfg.eval_every and (loop["step"] % cfg.eval_every == 0 or loop["step"] == cfg.steps):
                entry = entry or {"step": loop["step"], "loss": loss_val}
                entry["accuracy"] = _quick_eval(model, tok, cfg)
                bar.console.print(f"step {loop['step']}: loss {loss_val:.3f} accuracy {entry['accuracy']}")
            if entry:
                log.append(entry)
                _append_log(log_path, entry)
            if cfg.checkpoint_every and loop["step"] % cfg.checkpoint_every == 0 and loop["step"] < cfg.steps:
                save_checkpoint(out, loop["step"], model, opt, sched, dict(loop), cfg.keep_checkpoints)

    record = {
        "name": cfg.name,
        "config": asdict(cfg),
        "result": {
            "steps": loop["step"],
            "final_loss": loss_val,
            "tokens": loop["tokens"],
            "wall_s": loop["wall_s"],
            "tokens_per_s": loop["tokens"] / loop["wall_s"] if loop["wall_s"] else 0.0,
            "data_hash": loop["data_hash"],
            "parameters": count_parameters(model),
            "device": device.type,
            "final_accuracy": next((e["accuracy"] for e in reversed(log) if "accuracy" in e), None),
        },
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
    }
    save_model_dir(out, model, tok, record)
    ident = {k: v for k, v in model_identity(model, str(out), None).items() if k not in ("run_dir", "stage")}
    manifest = build_manifest(
        "pretrain", cfg.to_dict(), models={"output": ident}, resolved=resolved, result=record["result"]
    )
    run.write_json(MANIFEST_FILE, manifest)
    return record


def save_model_dir(out: Path, model, tok, record: dict[str, Any]) -> None:
    """The final directory: config, model.safetensors, generation config, tokenizer (with its chat
    template), the run record and a model card."""
    model.generation_config = greedy_generation_config(tok)
    model.to("cpu").save_pretrained(out)
    tok.save_pretrained(out)
    atomic_write_text(out / RECORD_FILE, json.dumps(record, indent=2, sort_keys=True) + "\n")
    atomic_write_text(out / "README.md", model_card(record))


def _quick_eval(model, tok, cfg: PretrainConfig) -> dict[str, float]:
    from reasonsift.evaluate.accuracy import evaluate_accuracy

    res = evaluate_accuracy(model, tok, cfg.tasks, n=cfg.eval_n, splits=("test",), seed=cfg.seed)
    model.train()
    return {s.task: round(s.accuracy, 4) for s in res.scores}


def _read_log(path: Path, upto: int) -> list[dict[str, Any]]:
    """Existing log lines up to step ``upto`` (a resumed run rewrites what came after its checkpoint)."""
    if not path.exists():
        return []
    kept = [e for e in map(json.loads, path.read_text().splitlines()) if e["step"] <= upto]
    atomic_write_text(path, "".join(json.dumps(e) + "\n" for e in kept))
    return kept


def _append_log(path: Path, entry: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")


class _nullctx:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
