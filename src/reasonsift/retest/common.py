"""What the claim experiments share: the student, train/test data, greedy scoring, SFT arms."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np

BUILTIN_MODEL = Path(__file__).resolve().parents[1] / "assets" / "models" / "tiny-arith"


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
    model: str, data: Path, out: Path, seed: int, *, mask: str, rho: float, steps: int, batch_size: int,
    lr: float, warmup: int,
) -> dict[str, Any]:  # fmt: skip
    """One SFT run of an arm (an earlier run in ``out`` is replaced)."""
    from reasonsift.train.sft import SFTRunConfig, main

    cfg = SFTRunConfig(
        model=model, data=str(data), out_dir=str(out), mask=mask, rho=rho, max_steps=steps,
        batch_size=batch_size, lr=lr, lr_scheduler="cosine", warmup_steps=warmup, seed=seed,
        save_every=10**9, overwrite=True,
    )  # fmt: skip
    return main(cfg)


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
