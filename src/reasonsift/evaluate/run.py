"""``reasonsift model eval`` as a library call: ``EvalConfig`` and ``main(cfg)``."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from reasonsift.evaluate.accuracy import EvalResult
from reasonsift.run.config import StageConfig
from reasonsift.tasks import SPLITS, get_task

DTYPES = ("auto", "float32", "bfloat16", "float16")


def _split_list(values: list[str] | str) -> list[str]:
    items = [values] if isinstance(values, str) else values
    return [v.strip() for item in items for v in item.split(",") if v.strip()]


@dataclass
class EvalConfig(StageConfig):
    model: str = ""  # model directory or Hugging Face id
    tasks: list[str] = field(default_factory=lambda: ["arith"])  # a list, or a comma-separated string
    n: int = 500  # items per task and split
    splits: list[str] = field(default_factory=lambda: ["test"])  # test and/or ood
    seed: int = 0
    difficulty: int | None = None  # None: each task's default
    batch_size: int = 64  # prompts per generation batch (left-padded)
    max_new_tokens: int | None = None  # None: 2x the longest reference reply
    device: str = "auto"
    dtype: str = "auto"  # auto: bfloat16 on CUDA, float32 on CPU
    out: str | None = None  # also write scores and replies to this JSON file
    trust_remote_code: bool = False
    allow_pickle: bool = False

    def __post_init__(self) -> None:
        from reasonsift.models.load import check_device

        self.tasks, self.splits = _split_list(self.tasks), _split_list(self.splits)
        if not self.model:
            raise ValueError("model: no model given")
        if not self.tasks:
            raise ValueError("tasks: at least one task is needed")
        for t in self.tasks:
            get_task(t)  # raises ValueError naming the unknown task
        for s in self.splits:
            if s not in SPLITS:
                raise ValueError(f"splits: unknown {s!r}; expected one of {', '.join(SPLITS)}")
        for name in ("n", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: expected >= 1, got {getattr(self, name)}")
        if self.max_new_tokens is not None and self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens: expected >= 1, got {self.max_new_tokens}")
        check_device(self.device)
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype: expected one of {DTYPES}, got {self.dtype!r}")


def main(cfg: EvalConfig, on_batch: Callable[[int], None] | None = None) -> EvalResult:
    """Load the model, score greedy answers, write ``cfg.out`` (scores, config and every reply) if set."""
    from reasonsift.evaluate.accuracy import evaluate_accuracy
    from reasonsift.models.load import load_with
    from reasonsift.utils.io import atomic_write_text

    model, tok = load_with(cfg)
    res = evaluate_accuracy(
        model, tok, cfg.tasks, n=cfg.n, splits=cfg.splits, seed=cfg.seed, difficulty=cfg.difficulty,
        batch_size=cfg.batch_size, max_new_tokens=cfg.max_new_tokens, on_batch=on_batch,
    )  # fmt: skip
    if cfg.out:
        doc = {**res.to_dict(), "config": cfg.to_dict(), "records": res.records}
        atomic_write_text(cfg.out, json.dumps(doc, indent=1) + "\n")
    return res
