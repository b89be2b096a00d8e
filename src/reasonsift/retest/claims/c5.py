"""C5: LoRA-only training of a small model matches full-parameter training (Tina), with its cost beside it.

Arms, at equal optimizer steps on the same data (C1's built-in SFT setting, arith difficulty 2): ``full``
fine-tuning (every parameter; C1's ``completion`` arm, shared in ``retest all``) and ``lora`` with the Tina
preset (r 32, alpha 128, every linear projection; :func:`reasonsift.train.common.lora_config`), merged for
evaluation. LoRA's learning rate is 10x the full one, the usual practice (a low-rank update needs a larger
step; Schulman et al., "LoRA Without Regret", 2025); both are in the report. The paper's setting is RL (GRPO on
a 1.5B distilled model); at built-in scale GRPO did not improve the shipped student (docs/train.md), so the
re-test is SFT: the claim is about the adapter's capacity, which SFT tests as well.

Accuracy is greedy on held-out difficulty-2 questions; ``metrics`` adds the held-out difficulty 1 (the
pretraining skill the SFT data leaves out: does the gain transfer, or cost what the model knew?), which C8
uses. Cost per arm: trainable parameters, tokens, wall time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reasonsift.retest.claims.c1 import RHO, setting, train_kw
from reasonsift.retest.common import arm_model, cost_facts, greedy, task_examples, trained_arm
from reasonsift.retest.spec import ArmRun, ClaimSpec, register
from reasonsift.retest.verdict import Rule

LORA_LR_FACTOR = 10.0
HELD_OUT = "held-out difficulty 1"


def lora_vs_full(cfg, out: Path, *, held_from_test_data: bool = False) -> tuple[dict, dict, dict, list, dict]:
    """Scores of base / lora / full on the test set and on the held-out set, their cost facts, notes, sizes.

    The held-out set is arith difficulty 1 with the built-in data; with ``--data`` it is ``--test-data`` when
    ``held_from_test_data`` (C8: the in-domain test is then a hold-out of ``--data``), else there is none."""
    from dataclasses import replace

    from reasonsift.data.io import read_examples

    if held_from_test_data and cfg.data:
        if not cfg.test_data:
            raise ValueError("test_data: C8 needs --test-data, examples of a held-out domain")
        held = read_examples(cfg.test_data).examples
        cfg = replace(cfg, test_data=None)
    model, data, test, sz = setting(cfg, out)
    if not cfg.data:
        held = task_examples("arith", sz["n_test"], (1,))
    elif not held_from_test_data:
        held = None
    root = cfg.out_dir
    n = len(cfg.seed_list)
    scores = {"base": np.repeat(greedy(root, model, test)[:, None], n, 1)}
    other = {"base": np.repeat(greedy(root, model, held)[:, None], n, 1)} if held else {}
    facts: dict[str, dict] = {}
    kw = train_kw(sz)
    for arm, options in (
        ("full", {"mask": "completion", "rho": RHO, **kw}),
        ("lora", {"mask": "completion", "rho": RHO, **kw, "lr": kw["lr"] * LORA_LR_FACTOR, "lora": True}),
    ):
        name = "sft-completion" if arm == "full" else "sft-lora"  # full = C1's completion arm (shared)
        cols, held_cols, costs = [], [], []
        for seed in cfg.seed_list:
            run_dir, cost = trained_arm(root, name, model, data, seed, **options)
            cols.append(greedy(root, arm_model(run_dir), test))
            if held:
                held_cols.append(greedy(root, arm_model(run_dir), held))
            costs.append(cost)
        scores[arm] = np.stack(cols, 1)
        if held:
            other[arm] = np.stack(held_cols, 1)
        facts[arm] = cost_facts(costs, sz["steps"]) | {"lr": options["lr"]}
    notes = [
        f"{len(test)} held-out questions x {n} seeds; {sz['steps']} SFT steps x {sz['batch_size']} per arm "
        f"(full lr {kw['lr']:g}, LoRA r 32 alpha 128 lr {kw['lr'] * LORA_LR_FACTOR:g}, cosine); model {model}; "
        + (f"data {cfg.data}" if cfg.data else "arith difficulty 2 -> test difficulty 2")
        + (f"; {HELD_OUT}: {len(held)} questions" if held else ""),
        f"Trainable parameters: LoRA {facts['lora']['trainable_parameters']:,} vs full "
        f"{facts['full']['trainable_parameters']:,}; wall time {facts['lora']['wall_s']:.0f} s vs "
        f"{facts['full']['wall_s']:.0f} s over the seeds.",
    ]
    return scores, other, facts, notes, sz


def run(cfg, out: Path) -> ArmRun:
    scores, other, facts, notes, _ = lora_vs_full(cfg, out)
    return ArmRun(scores=scores, facts=facts, notes=notes, metrics={HELD_OUT: other} if other else {})


SPEC = register(
    ClaimSpec(
        id="C5",
        title="LoRA matches full fine-tuning",
        claim="LoRA-only RL on a small model matches full-parameter RL, at a fraction of the cost.",
        source='Wang et al., "Tina: Tiny Reasoning Models via LoRA", arXiv 2504.15777 (LoRA r 32 alpha 128, '
        "GRPO, DeepSeek-R1-Distill-Qwen-1.5B).",
        attribution_note="Tina compares its LoRA runs with full-parameter results of other papers, not with "
        "full RL of its own at equal steps; this re-test runs both arms itself, with SFT instead of RL at "
        "built-in scale.",
        rule=Rule("at_least", "lora", "full", "held-out accuracy", 0.03),
        needs="--model (a causal LM) and --data (examples with traces and answers; --test-data or a 20% "
        "hold-out). Runs SFT: full and LoRA (r 32, alpha 128) x seeds; peft is required.",
        arms=(
            ("base", "the starting model, untrained"),
            ("full", "SFT of every parameter"),
            ("lora", "SFT of a LoRA adapter (r 32, alpha 128, all linear projections, lr x10), merged"),
        ),
        comparisons=(("full", "base"), ("lora", "base")),
        run=run,
    )
)
