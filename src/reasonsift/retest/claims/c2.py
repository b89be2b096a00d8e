"""C2: reasoning is latent in the base model; post-training teaches *when* to use it.

Two probes on the same held-out questions (CLAIMS.md C2), for a base model and its post-trained version:

- **pass@k of the base vs pass@1 of the trained model** (the rule). If k samples of the base model solve
  what the trained model solves greedily, the skill was there before post-training. pass@k here is the
  fraction of questions with at least one correct sample among k samples at temperature 1 (n = k, so the
  unbiased estimator of Chen et al. 2021 reduces to "any correct").
- **hybrid decoding** (:mod:`reasonsift.evaluate.hybrid`): the base model decodes greedily and the trained
  model's greedy token replaces the base model's only at the base model's forking tokens (entropy in its top
  rho = 0.2); accuracy, fraction of tokens steered and gap recovered = (hybrid - base) / (trained - base).
  Steering wherever the two disagree reproduces the trained model's greedy decoding exactly (hybrid.py's
  doc), so that variant is reported only for its fraction steered: the share of the trained model's tokens
  the base model would not have chosen itself.

Built-in pair: base = the built-in tiny-arith (pretrained on arith difficulty 1), trained = it after the
arith-difficulty-2 SFT of C1's ``completion`` arm (one per seed; the same runs as C1 in ``retest all``);
test on arith difficulty 2. With ``--trained`` the user's post-trained model is the trained arm (every seed;
seeds then vary the base model's samples only).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reasonsift.retest.claims.c1 import RHO, setting, train_kw
from reasonsift.retest.common import cached_scores, cost_facts, greedy, model_key, trained_arm
from reasonsift.retest.spec import ArmRun, ClaimSpec, register
from reasonsift.retest.verdict import Rule


def k_samples(quick: bool) -> int:
    return 8 if quick else 32


def pass_at_k_scores(model: str | Path, examples: list, k: int, seed: int) -> np.ndarray:
    """1.0 where at least one of ``k`` samples (temperature 1, the HF backend's seeded streams) is correct."""
    from reasonsift.evaluate.accuracy import default_max_new_tokens
    from reasonsift.evaluate.backends.base import SamplingParams
    from reasonsift.evaluate.backends.hf import HFBackend
    from reasonsift.evaluate.stage import render_prompt
    from reasonsift.evaluate.verify import verify_all
    from reasonsift.models.load import load

    lm, tok = load(str(model), device="cpu", dtype="float32")
    prompts = [render_prompt(tok, e) for e in examples]
    params = SamplingParams(
        n=k, temperature=1.0, max_new_tokens=default_max_new_tokens(tok, examples), seed=seed
    )
    gens = HFBackend(lm, tok, batch_size=256).generate(prompts, params)
    flat = [g.text for row in gens for g in row]
    outcomes = verify_all(flat, [e for e in examples for _ in range(k)])
    correct = np.array([o.correct for o in outcomes], dtype=np.float64).reshape(len(examples), k)
    return correct.max(1)


def hybrid_scores(base: str | Path, trained: str | Path, examples: list, *, forking: bool) -> dict:
    """Hybrid decoding of ``examples``: per-question correctness, tokens generated and steered."""
    from reasonsift.evaluate.accuracy import default_max_new_tokens
    from reasonsift.evaluate.hybrid import hybrid_decode
    from reasonsift.evaluate.stage import render_prompt
    from reasonsift.evaluate.verify import verify_all
    from reasonsift.models.load import load

    b, tok = load(str(base), device="cpu", dtype="float32")
    t, ttok = load(str(trained), device="cpu", dtype="float32")
    prompts = [render_prompt(tok, e) for e in examples]
    kw = {"only_forking": True, "rho": RHO} if forking else {}
    res = hybrid_decode(
        b, t, tok, prompts, max_new_tokens=default_max_new_tokens(tok, examples), batch_size=64,
        trained_tokenizer=ttok, **kw,
    )  # fmt: skip
    correct = np.array([o.correct for o in verify_all(res.texts, examples)], dtype=np.float64)
    return {"correct": correct, "generated": res.n_generated, "steered": res.n_steered, "tau": res.threshold}


def run(cfg, out: Path) -> ArmRun:
    from reasonsift.evaluate.hybrid import gap_recovered_ci

    base_model, data, test, sz = setting(cfg, out)
    root = cfg.out_dir
    k = k_samples(cfg.quick)
    n_seeds = len(cfg.seed_list)
    base = greedy(root, base_model, test)
    cols: dict[str, list[np.ndarray]] = {"trained": [], "base_pass@k": [], "hybrid_forking": []}
    steer = {"hybrid_forking": [0, 0], "hybrid_everywhere": [0, 0]}
    costs, taus = [], []
    for seed in cfg.seed_list:
        if cfg.trained:
            trained = Path(cfg.trained) if Path(cfg.trained).exists() else cfg.trained
        else:
            run_dir, cost = trained_arm(root, "sft-completion", base_model, data, seed, mask="completion",
                                        rho=RHO, **train_kw(sz))  # fmt: skip
            trained = run_dir / "model"
            costs.append(cost)
        cols["trained"].append(greedy(root, trained, test))
        cols["base_pass@k"].append(
            cached_scores(
                root,
                base_model,
                test,
                f"pass{k}-seed{seed}",
                lambda s=seed: pass_at_k_scores(base_model, test, k, s),
            )  # fmt: skip
        )
        for name, forking in (("hybrid_forking", True), ("hybrid_everywhere", False)):
            h = hybrid_scores(base_model, trained, test, forking=forking)
            steer[name][0] += h["steered"]
            steer[name][1] += h["generated"]
            if forking:
                cols[name].append(h["correct"])
                taus.append(h["tau"])
            elif not np.array_equal(h["correct"], cols["trained"][-1]):
                # steering wherever they differ is the trained model's greedy decoding (hybrid.py): a check
                raise RuntimeError(
                    f"C2: hybrid decoding steered everywhere disagrees with the trained model's greedy "
                    f"replies ({model_key(trained)}); the two decoders differ"
                )
    scores = {"base": np.repeat(base[:, None], n_seeds, 1)} | {n: np.stack(c, 1) for n, c in cols.items()}
    gap = gap_recovered_ci(base, scores["trained"].mean(1), scores["hybrid_forking"].mean(1))
    frac = {n: (s / g if g else float("nan")) for n, (s, g) in steer.items()}
    facts: dict[str, dict] = {
        "hybrid_forking": {
            "fraction_steered": frac["hybrid_forking"],
            "gap_recovered": gap,
            "tau_nats": float(np.mean(taus)),
        },  # fmt: skip
        "trained": {"fraction_steered_if_steering_everywhere": frac["hybrid_everywhere"]}
        | (cost_facts(costs, sz["steps"]) if costs else {"model": str(cfg.trained)}),
        "base_pass@k": {"k": k, "temperature": 1.0},
    }
    g = gap["gap_recovered"]
    notes = [
        f"{len(test)} held-out questions x {n_seeds} seeds; base {base_model}; trained "
        + (str(cfg.trained) if cfg.trained else f"by SFT ({sz['steps']} steps x {sz['batch_size']}, C1's "
           "completion arm)") + f"; pass@{k} from {k} samples at temperature 1 per question and seed.",
        f"Hybrid decoding at the base model's forking tokens (top {RHO:.0%} entropy, tau "
        f"{np.mean(taus):.3f} nats) steered {frac['hybrid_forking']:.1%} of generated tokens and recovered "
        + (f"{g:.0%} of the trained - base gap" if g is not None else "an undefined share (no gap)")
        + (f" (95% CI [{gap['ci_low']:.0%}, {gap['ci_high']:.0%}])" if gap["ci_low"] is not None else "")
        + f"; steering wherever the two disagree (= the trained model) changes {frac['hybrid_everywhere']:.1%} "
        "of its tokens (paper: ~12% steered, up to 91% of the gap recovered).",
    ]  # fmt: skip
    return ArmRun(scores=scores, facts=facts, notes=notes)


SPEC = register(
    ClaimSpec(
        id="C2",
        title="Reasoning is latent in base models",
        claim="Base models already hold the reasoning that post-training only elicits: post-training teaches "
        "when to use it, not how.",
        source='Venhoff et al., "Base Models Know How to Reason, Thinking Models Learn When", arXiv 2510.07364.',
        attribution_note="The note cites arXiv 2504.09858, which is a different paper (NoThinking). Its "
        "'five mechanisms' list is the note's own synthesis of other papers (2506.03295, 2601.08058, "
        "2509.06608, 2402.10200). The paper steers activations with steering vectors; here the trained "
        "model's token replaces the base model's at the base model's forking tokens.",
        rule=Rule("at_least", "base_pass@k", "trained", "held-out accuracy", 0.02),
        needs="--model (the base) and --trained (its post-trained version, same tokenizer), --data with "
        "answers (--test-data or a 20% hold-out); without --trained the base is fine-tuned here by SFT.",
        arms=(
            ("base", "the base model, greedy"),
            ("trained", "the post-trained model, greedy (pass@1)"),
            ("base_pass@k", "the base model, pass@k: k samples at temperature 1 (k 8 quick, 32 full)"),
            ("hybrid_forking", "base decodes; the trained model's token at the base model's forking tokens"),
        ),
        comparisons=(("trained", "base"), ("hybrid_forking", "base"), ("hybrid_forking", "trained")),
        run=run,
    )
)
