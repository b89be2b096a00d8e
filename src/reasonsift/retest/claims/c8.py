"""C8: small models learn the output format, not new knowledge — re-tested as: does the gain transfer?

If what a small model picks up in fine-tuning were the output format, the gain would not depend on the domain
it was trained on: questions of a held-out domain (same format) would gain as much as questions of the trained
one. C8 uses C5's runs (LoRA and full fine-tuning of the same student, shared in ``retest all``) and compares
the LoRA arm's gain over the base model on a held-out set with its gain in domain: the effect is
``(lora - base)[held-out] - (lora - base)[in domain]``, with a bootstrap CI that resamples the two question
sets independently (they are different questions; seeds stay with their question). Built-in held-out set:
arith difficulty 1, the skill the student was pretrained on (the format is the same); with ``--data`` it is
``--test-data``. The full arm's numbers sit beside it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reasonsift.retest.claims.c5 import HELD_OUT, lora_vs_full
from reasonsift.retest.spec import ArmRun, ClaimSpec, register
from reasonsift.retest.verdict import Rule


def gain_transfer(base_id, arm_id, base_held, arm_held, *, n_boot: int = 2000, seed: int = 0) -> dict:
    """``(arm - base)[held] - (arm - base)[id]`` from ``[questions, seeds]`` scores, with a 95% percentile CI
    from independent cluster bootstraps of the two question sets."""
    from reasonsift.evaluate.metrics import bootstrap_indices

    gid = (np.asarray(arm_id, float) - np.asarray(base_id, float)).mean(1)
    gheld = (np.asarray(arm_held, float) - np.asarray(base_held, float)).mean(1)
    reps = gheld[bootstrap_indices(gheld.size, n_boot=n_boot, seed=seed + 1)].mean(1) - gid[
        bootstrap_indices(gid.size, n_boot=n_boot, seed=seed)
    ].mean(1)
    lo, hi = np.quantile(reps, [0.025, 0.975])
    return {"diff": float(gheld.mean() - gid.mean()), "ci_low": float(lo), "ci_high": float(hi),
            "gain_in_domain": float(gid.mean()), "gain_held_out": float(gheld.mean())}  # fmt: skip


def run(cfg, out: Path) -> ArmRun:
    scores, held, facts, notes, _ = lora_vs_full(cfg, out, held_from_test_data=True)
    effect = gain_transfer(scores["base"], scores["lora"], held["base"], held["lora"])
    full = gain_transfer(scores["base"], scores["full"], held["base"], held["full"])
    facts["lora"] |= {"gain_in_domain": effect["gain_in_domain"], "gain_held_out": effect["gain_held_out"]}
    facts["full"] |= {"gain_in_domain": full["gain_in_domain"], "gain_held_out": full["gain_held_out"]}
    notes.append(
        f"LoRA gain over the base: {100 * effect['gain_in_domain']:+.1f} points in domain, "
        f"{100 * effect['gain_held_out']:+.1f} on the {HELD_OUT} set; full fine-tuning "
        f"{100 * full['gain_in_domain']:+.1f} and {100 * full['gain_held_out']:+.1f}."
    )
    return ArmRun(scores=scores, facts=facts, notes=notes, metrics={HELD_OUT: held}, effect=effect)


SPEC = register(
    ClaimSpec(
        id="C8",
        title="Small models learn the format, not knowledge",
        claim="Small models fine-tuned with LoRA learn the output format, not new knowledge.",
        source='Wang et al., "Tina: Tiny Reasoning Models via LoRA", arXiv 2504.15777 — an interpretation '
        "of its LoRA-RL results, not a measured result.",
        attribution_note="Not a finding the paper tests: Tina offers it as an explanation of why LoRA-RL "
        "works (CLAIMS.md C8); this re-test operationalises it as the gain transferring to a held-out set.",
        rule=Rule("at_least", "held-out gain", "in-domain gain", "accuracy gain over the base (LoRA)", 0.05),
        needs="--model and --data (the training domain; its 20% hold-out is the in-domain test) and "
        "--test-data (examples of a held-out domain, same answer format). Runs C5's LoRA and full SFT.",
        arms=(
            ("base", "the starting model, untrained"),
            ("full", "SFT of every parameter"),
            ("lora", "SFT of a LoRA adapter (r 32, alpha 128, lr x10), merged"),
        ),
        comparisons=(("lora", "base"), ("full", "base")),
        custom_effect=True,
        run=run,
    )
)
