"""What the claim experiments share: the student, train/test data, greedy scoring, SFT arms.

Claims of one re-test run share their work: a training run is keyed by its starting model, the sha256 of its
data, its seed and its options (:func:`trained_arm`), and scores by the model and the questions
(:func:`cached_scores`), so ``retest all`` trains the arith-difficulty-2 SFT arm once for C1, C2, C5, C6, C7
and s1/LIMO. Built-in data files are written byte-identically by :func:`task_data`."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

BUILTIN_MODEL = Path(__file__).resolve().parents[1] / "assets" / "models" / "tiny-arith"
ARMS_DIR = "arms"  # in the run directory: the shared training runs and cached scores

# The built-in SFT setting most claims stand on (calibrated for C1, RETEST.md): the built-in tiny-arith
# (pretrained on arith difficulty 1: greedy 0.685 there, 0.25 on difficulty 2) fine-tuned on arith difficulty 2
# and tested on it. One seed of 200 steps x 32 took it to 0.43 (docs/train.md); 80 steps were too few.
ARITH_SFT = {
    True: {"steps": 120, "batch_size": 32, "n_train": 3840, "n_test": 200, "lr": 3e-4, "warmup": 12},
    False: {"steps": 200, "batch_size": 32, "n_train": 6400, "n_test": 400, "lr": 3e-4, "warmup": 20},
}


def sizes(base: dict, cfg) -> dict:
    """A claim's sizes with the run's ``--steps`` / ``--n-test`` overrides applied."""
    sz = dict(base)
    if cfg.steps:
        sz["steps"] = cfg.steps
    if cfg.n_test:
        sz["n_test"] = cfg.n_test
    return sz


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def task_data(root: Path, task: str, n: int, difficulties: tuple[int, ...], *, split: str = "train",
              seed: int = 1000, fmt: str | None = None) -> Path:  # fmt: skip
    """``n`` built-in examples of ``task``, split evenly over ``difficulties``, written once under the run's
    data folder (the same arguments give the same file, so claims share it and its training runs)."""
    from reasonsift.data.io import write_examples

    name = f"{task}-{split}-d{'-'.join(map(str, difficulties))}-n{n}-s{seed}" + (f"-{fmt}" if fmt else "")
    path = Path(root) / "data" / f"{name}.jsonl"
    if path.is_file():
        return path
    write_examples(task_examples(task, n, difficulties, split=split, seed=seed, fmt=fmt), path)
    return path


def task_examples(task: str, n: int, difficulties: tuple[int, ...], *, split: str = "test", seed: int = 0,
                  fmt: str | None = None) -> list:  # fmt: skip
    """``n`` built-in examples of ``task`` split evenly over ``difficulties`` (indices never overlap)."""
    from reasonsift.tasks import get_task

    t = get_task(task)
    per, out = n // len(difficulties), []
    for i, d in enumerate(difficulties):
        k = per if i < len(difficulties) - 1 else n - per * (len(difficulties) - 1)
        kw = {"format": fmt} if fmt else {}
        out += t.generate(k, seed=seed + i, split=split, difficulty=d, start=i * per, **kw)
    return out


def split_data(path: str, test_path: str | None, n_test: int, seed: int) -> tuple[list, list]:
    """Training and held-out examples of a user's data: ``test_path`` when given, else a seeded hold-out of
    ``n_test`` examples (at most a fifth) from ``path``."""
    from reasonsift.data.io import read_examples

    exs = read_examples(path).examples
    if not exs:
        raise ValueError(f"data: {path} holds no examples")
    if test_path:
        test = read_examples(test_path).examples
        if not test:
            raise ValueError(f"test_data: {test_path} holds no examples")
        return exs, test
    order = list(range(len(exs)))
    random.Random(seed).shuffle(order)
    k = min(n_test, len(exs) // 5)
    if k < 1:
        raise ValueError(
            f"data: {path} has {len(exs)} examples, too few to hold out a test set; give --test-data"
        )
    held = set(order[:k])
    return [e for i, e in enumerate(exs) if i not in held], [e for i, e in enumerate(exs) if i in held]


def greedy_scores(model_dir: str | Path, examples: list, *, batch_size: int = 64) -> np.ndarray:
    """1.0 where the model's greedy reply to an example is correct (its verifier), else 0.0; in order."""
    import torch

    from reasonsift.evaluate.accuracy import greedy_replies
    from reasonsift.evaluate.verify import verify_all
    from reasonsift.models.load import load

    model, tok = load(str(model_dir), device="cpu", dtype="float32")
    with torch.no_grad():
        replies = greedy_replies(model, tok, examples, batch_size=batch_size)
    return np.array([float(o.correct) for o in verify_all(replies, examples)])


def sft_arm(
    model: str, data: Path, out: Path, seed: int, *, mask: str = "completion", rho: float = 0.2, steps: int,
    batch_size: int, lr: float, warmup: int, **options: Any,
) -> dict[str, Any]:  # fmt: skip
    """One SFT run of an arm (an earlier run in ``out`` is replaced); ``options``: more SFTRunConfig fields."""
    from reasonsift.train.sft import SFTRunConfig, main

    cfg = SFTRunConfig(
        model=model, data=str(data), out_dir=str(out), mask=mask, rho=rho, max_steps=steps,
        batch_size=batch_size, lr=lr, lr_scheduler="cosine", warmup_steps=warmup, seed=seed,
        save_every=10**9, overwrite=True, **options,
    )  # fmt: skip
    return main(cfg)


def model_key(model: str | Path) -> str:
    """A model's identity for the caches: its resolved path (a hub id as given)."""
    p = Path(model)
    return str(p.resolve()) if p.exists() else str(model)


def trained_arm(root: str | Path, name: str, model: str | Path, data: Path, seed: int, **options: Any,
                ) -> tuple[Path, dict[str, Any]]:  # fmt: skip
    """The SFT run ``sft_arm(model, data, ..., seed, **options)`` under ``root/arms``, shared by every claim of
    the run: a finished run with the same starting model, data (sha256), seed and options is reused.
    Returns the run directory (its model in ``model/``) and its ``cost.json``."""
    from reasonsift.utils.io import atomic_write_text, file_sha256

    key = {"model": model_key(model), "data": file_sha256(data), "seed": seed, **options}
    run_dir = Path(root) / ARMS_DIR / f"{name}-s{seed}-{_digest(key)[:10]}"
    done = run_dir / "arm.json"
    if done.is_file() and json.loads(done.read_text()) == json.loads(json.dumps(key, default=str)):
        return run_dir, json.loads((run_dir / "cost.json").read_text())
    cost = sft_arm(str(model), data, run_dir, seed, **options)
    atomic_write_text(done, json.dumps(key, sort_keys=True, default=str))
    return run_dir, cost


def arm_model(run_dir: Path) -> Path:
    """The trained model of a run: the merged export of a LoRA run, else ``model/``."""
    from reasonsift.train.common import MERGED_DIR, MODEL_DIR

    merged = Path(run_dir) / MERGED_DIR
    return merged if merged.is_dir() else Path(run_dir) / MODEL_DIR


def cached_scores(root: str | Path, model: str | Path, examples: list, kind: str,
                  fn: Callable[[], np.ndarray]) -> np.ndarray:  # fmt: skip
    """``fn()`` (a model's per-question scores of ``kind`` on ``examples``), computed once per run."""
    key = {"model": model_key(model), "kind": kind,
           "examples": [(e.id, e.question, e.answer, e.format) for e in examples]}  # fmt: skip
    path = Path(root) / ARMS_DIR / "scores" / f"{kind}-{_digest(key)[:16]}.npy"
    if path.is_file():
        return np.load(path)
    x = np.asarray(fn(), dtype=np.float64)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, x)
    return x


def greedy(root: str | Path, model: str | Path, examples: list) -> np.ndarray:
    """:func:`greedy_scores`, cached in the run."""
    return cached_scores(root, model, examples, "greedy", lambda: greedy_scores(model, examples))


def cost_facts(costs: list[dict[str, Any]], steps: int) -> dict[str, Any]:
    """An arm's cost beside its scores: tokens in the loss and seen (mean per seed), wall time (sum) and
    trainable parameters (RETEST.md: log cost beside every result)."""
    return {
        "tokens_in_loss": float(np.mean([c["tokens_in_loss"] for c in costs])),
        "tokens_seen": float(np.mean([c["tokens_seen"] for c in costs])),
        "wall_s": float(np.sum([c["wall_s"] for c in costs])),
        "trainable_parameters": costs[0]["trainable_parameters"],
        "steps": steps,
    }


def user_split(cfg, out: Path, n_test: int) -> tuple[Path, list]:
    """``--data`` (and ``--test-data``) of the run: the training file to use and the held-out examples."""
    from reasonsift.data.io import write_examples

    train, test = split_data(cfg.data, cfg.test_data, n_test, seed=0)
    data = Path(out) / "train.jsonl"
    data.parent.mkdir(parents=True, exist_ok=True)
    write_examples(train, data)
    return data, test


def token_facts(start: str | Path, trained: list[str | Path], examples: list, rho: float = 0.2) -> dict:
    """C1's profile facts on the completions of ``examples`` under the starting model: the share of tokens with
    H < 0.01 and the 80th percentile of H; and, per trained model, the share of the starting model's top-rho
    positions (per sequence) that are also top-rho under the trained model."""
    import torch

    from reasonsift.models.load import load
    from reasonsift.ops.loss_masks import entropy_from_logits, forking_loss_mask
    from reasonsift.train.sft import Collator, build_rows

    model0, tok = load(str(start), device="cpu", dtype="float32")  # trained models keep the start's tokenizer
    batch = Collator(tok.pad_token_id)(build_rows(examples, tok, 10**6))
    comp = batch["completion_mask"][:, 1:].bool()

    def entropies(model):
        with torch.no_grad():
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        return entropy_from_logits(logits[:, :-1])

    h0 = entropies(model0)
    vals = h0[comp].double()
    fork0 = forking_loss_mask(h0, comp, rho, "sequence")
    overlaps = []
    for path in trained:
        h1 = entropies(load(str(path), device="cpu", dtype="float32")[0])
        fork1 = forking_loss_mask(h1, comp, rho, "sequence")
        overlaps.append(float((fork0 & fork1).sum() / fork0.sum()))
    return {
        "share_entropy_below_0.01": float((vals < 0.01).double().mean()),
        "entropy_p80": float(torch.quantile(vals, 0.8)),
        "top_positions_overlap": overlaps,
        "tokens": int(comp.sum()),
    }


@contextmanager
def one_thread():
    """Decode on one CPU thread: the built-in model's matrices are too small to split, and a second thread only
    adds synchronisation (measured: a 128x512 linear on 4 rows takes 0.06 ms on one thread, 5.7 ms on two
    when the other core is busy)."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)
