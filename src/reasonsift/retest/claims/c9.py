"""C9 (unattested): judgement criteria are learned from explicit principles, not from labels — a hypothesis
harness, never a finding of the cited paper.

The note cites Wachsmuth et al., arXiv 2403.16084, a position paper with no experiments; "RATIO" and "QOAM"
appear in no paper or code found (CLAIMS.md). So this spec tests the note's sentence as a hypothesis: two
students fine-tuned on the same judgement cases with the same labels, one seeing only the case (``labels``),
one seeing the criterion stated in the prompt before the case (``criterion``), compared on cases of a type
neither saw in training.

Built-in judgement task (:func:`judgement_examples`, Example records the SFT trainer and the verifiers take):
a case is one arithmetic step of the built-in ``arith`` traces with a claimed result, ``-13+88=75?``; the
answer is ``yes`` when the claim is right and ``no`` when it is a slip (off by one, off by ten, the sign
flipped, or the other operation applied), half and half. Training cases are additions; the held-out case type
is subtraction (the other operation, which the criterion covers in words). The student is the built-in
``tiny-arith``, which writes both kinds of step in its own traces, so the held-out type is one it can compute.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np

from reasonsift.retest.common import (
    BUILTIN_MODEL,
    cached_scores,
    cost_facts,
    one_thread,
    sizes,
    trained_arm,
    user_split,
)
from reasonsift.retest.spec import SCALE_CAVEAT, ArmRun, ClaimSpec, register
from reasonsift.retest.verdict import Rule

CRITERION = "Criterion: yes only if z is exactly x plus y (x+y=z) or x minus y (x-y=z)."
SLIPS = ("units", "tens", "sign", "operation")  # the wrong claims: off by 1, off by 10, -z, the other op
MARGIN = 0.05  # the smallest held-out gain that counts (the rule)
TRAIN_OP, HELD_OP = "+", "-"  # case types: additions in training, subtractions held out
DIFFICULTIES = (1, 2)  # arith difficulties the steps are taken from
_STEP = re.compile(r"^(-?\d+)([+-])(\d+)=(-?\d+)$")

# Sizes. --quick fits ~1.5 min on 2 idle cores (6 SFT runs; the criterion arm's prompts are ~5x longer). A
# calibration of the labels arm (one seed, answers only) left it judging at chance in distribution: 60 x 32
# at lr 1e-3 and 80 x 16 at lr 3e-3 answered "yes" to nearly everything (50%), 80 x 16 at lr 1e-2 guessed
# (47%); hence the floor guard of the rule (guarded_effect). The full size is not calibrated.
C9_SFT = {
    True: {"steps": 80, "batch_size": 16, "n_train": 1280, "n_test": 200, "lr": 3e-3, "warmup": 8},
    False: {"steps": 400, "batch_size": 32, "n_train": 12800, "n_test": 400, "lr": 3e-3, "warmup": 40},
}


def arith_steps(op: str, n: int, *, split: str, seed: int) -> list[tuple[int, str, int, int]]:
    """The first ``n`` steps ``(x, op, y, z)`` with operation ``op`` in the traces of built-in arith items of
    ``split`` (difficulties :data:`DIFFICULTIES` in turn), in order."""
    from reasonsift.tasks import get_task

    task, out, start = get_task("arith"), [], 0
    while len(out) < n:
        for d in DIFFICULTIES:
            for ex in task.generate(64, seed=seed, split=split, difficulty=d, start=start):
                for s in ex.trace.split(";"):
                    m = _STEP.match(s.strip())
                    if m and m.group(2) == op:
                        out.append((int(m.group(1)), op, int(m.group(3)), int(m.group(4))))
        start += 64
    return out[:n]


def slip(x: int, op: str, y: int, z: int, kind: str, rng: random.Random) -> int:
    """A wrong claimed result of the step ``x op y = z`` by ``kind`` (never equal to ``z``)."""
    if kind == "units":
        w = z + rng.choice((-1, 1))
    elif kind == "tens":
        w = z + rng.choice((-10, 10))
    elif kind == "sign":
        w = -z if z != 0 else 1
    elif kind == "operation":
        w = x - y if op == "+" else x + y
    else:
        raise ValueError(f"kind: unknown slip {kind!r}; expected one of {', '.join(SLIPS)}")
    return w if w != z else z + 1


def with_criterion(ex, criterion: str):
    """The same case with ``criterion`` stated before it in the prompt (the ``criterion`` arm's form)."""
    from dataclasses import replace

    return replace(ex, id=ex.id + "-crit", question=f"{criterion}\n{ex.question}", meta=dict(ex.meta))


def judgement_examples(op: str, n: int, *, split: str, seed: int = 0) -> list:
    """``n`` judgement cases of steps with operation ``op``: even positions claim the right result
    (``yes``), odd ones a slip (``no``), the slip kinds in turn. The ``labels`` form (no criterion)."""
    from reasonsift.data.example import Example

    out = []
    for i, (x, o, y, z) in enumerate(arith_steps(op, n, split=split, seed=seed)):
        rng = random.Random(f"c9:{split}:{seed}:{op}:{i}")
        kind = None if i % 2 == 0 else SLIPS[(i // 2) % len(SLIPS)]
        claim = z if kind is None else slip(x, o, y, z, kind, rng)
        out.append(
            Example(
                id=f"judge-{split}-{seed}-{'add' if op == '+' else 'sub'}-{i}",
                question=f"{x}{o}{y}={claim}?",
                answer="yes" if kind is None else "no",
                domain="judgement",
                source=f"reasonsift:c9:arith:{split}:{seed}:{i}",
                meta={
                    "case_type": "add" if op == "+" else "sub",
                    "slip": kind,
                    "claim": claim,
                    "right": z,
                    "criterion": CRITERION,
                },  # fmt: skip
            )
        )
    return out


def judge_scores(model_dir: str | Path, examples: list, kind: str) -> np.ndarray:
    """1.0 where the greedy reply's final answer equals the label (``kind``: the verifier kind; ``exact``
    for the built-in yes/no cases), else 0.0; in order."""
    import torch

    from reasonsift.evaluate.accuracy import greedy_replies
    from reasonsift.evaluate.verify import verify_all
    from reasonsift.models.load import load

    model, tok = load(str(model_dir), device="cpu", dtype="float32")
    with torch.no_grad(), one_thread():
        replies = greedy_replies(model, tok, examples, batch_size=64)
    return np.array([float(o.correct) for o in verify_all(replies, examples, kind=kind)])


def _write(path: Path, examples: list) -> Path:
    from reasonsift.data.io import write_examples

    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_examples(examples, path)
    return path


def setting(cfg, out: Path) -> dict:
    """The student, the two arms' training files and the test sets (each in both forms), the verifier kind."""
    sz = sizes(C9_SFT[cfg.quick], cfg)
    model = cfg.model or str(BUILTIN_MODEL)
    if cfg.data:
        from reasonsift.data.io import read_examples

        labels_file, held = user_split(cfg, out, sz["n_test"])
        train = read_examples(labels_file).examples
        missing = [e.id for e in [*train, *held] if not str(e.meta.get("criterion", "")).strip()]
        if missing:
            raise ValueError(
                f"data: C9 needs each example's meta.criterion (the criterion text); missing in {missing[:3]}"
            )
        crit_file = _write(
            out / "train-criterion.jsonl", [with_criterion(e, e.meta["criterion"]) for e in train]
        )
        return {"model": model, "sz": sz, "labels": labels_file, "criterion": crit_file, "kind": "auto",
                "tests": {"held-out": held}}  # fmt: skip
    n_train = max(sz["n_train"], sz["steps"] * sz["batch_size"])
    train = judgement_examples(TRAIN_OP, n_train, split="train", seed=1000)
    data = Path(cfg.out_dir) / "data"
    labels_file = _write(data / f"judge-add-labels-n{n_train}.jsonl", train)
    crit_file = _write(
        data / f"judge-add-criterion-n{n_train}.jsonl", [with_criterion(e, CRITERION) for e in train]
    )
    tests = {
        "held-out": judgement_examples(HELD_OP, sz["n_test"], split="test"),
        "in-distribution": judgement_examples(TRAIN_OP, sz["n_test"], split="test"),
    }
    return {"model": model, "sz": sz, "labels": labels_file, "criterion": crit_file, "kind": "exact",
            "tests": tests}  # fmt: skip


def run(cfg, out: Path) -> ArmRun:
    s = setting(cfg, out)
    model, sz, root, kind = s["model"], s["sz"], cfg.out_dir, s["kind"]
    seeds = cfg.seed_list
    train_kw = {"steps": sz["steps"], "batch_size": sz["batch_size"], "lr": sz["lr"], "warmup": sz["warmup"]}

    def score(model_dir, examples):
        return cached_scores(root, model_dir, examples, f"judge-{kind}",
                             lambda: judge_scores(model_dir, examples, kind))  # fmt: skip

    # every arm is scored on the same cases (paired); the criterion arm sees them with the criterion stated
    def form(arm: str, examples: list) -> list:
        return [with_criterion(e, e.meta["criterion"]) for e in examples] if arm == "criterion" else examples

    per_test: dict[str, dict[str, np.ndarray]] = {t: {} for t in s["tests"]}
    for t, exs in s["tests"].items():
        per_test[t]["base"] = np.repeat(score(model, exs)[:, None], len(seeds), 1)
    facts: dict[str, dict] = {}
    for arm in ("labels", "criterion"):
        cols: dict[str, list] = {t: [] for t in s["tests"]}
        costs = []
        for seed in seeds:
            run_dir, cost = trained_arm(root, f"c9-{arm}", model, s[arm], seed, **train_kw)
            costs.append(cost)
            for t, exs in s["tests"].items():
                cols[t].append(score(run_dir / "model", form(arm, exs)))
        for t in s["tests"]:
            per_test[t][arm] = np.stack(cols[t], 1)
        facts[arm] = cost_facts(costs, sz["steps"])
    held = per_test.pop("held-out")
    metrics = {f"{t} accuracy": v for t, v in per_test.items()}
    n_held = held["labels"].shape[0]
    notes = [
        "A hypothesis harness: the cited paper (arXiv 2403.16084) is a position paper with no experiments, "
        "and 'RATIO'/'QOAM' are unattested; nothing here is a finding of that paper.",
        f"{n_held} held-out cases x {len(seeds)} seeds; {sz['steps']} SFT steps of {sz['batch_size']} "
        f"sequences per arm, lr {sz['lr']:g} cosine; model {model}; "
        + (f"data {cfg.data} (criterion from each example's meta.criterion)" if cfg.data else
           f"built-in judgement cases: one arith step (difficulties {DIFFICULTIES}) with a claimed result, "
           f"half right (yes), half a slip (no: {', '.join(SLIPS)} in turn); trained on additions, held out: "
           "subtractions; the criterion arm's prompt starts with: " + CRITERION),
        "Rule guard (written with the rule): the held-out difference decides only if some trained arm judges "
        "the in-distribution cases above chance (its 95% CI above 50%) and the labels arm leaves at least "
        f"{MARGIN:g} to gain on the held-out cases; otherwise the effect is undefined and the verdict "
        "inconclusive (floor or ceiling, RETEST.md). The raw difference is in the comparisons either way.",
        "Both arms train on the same cases, labels, steps and answers (the loss is on the answer only); the "
        "criterion arm's prompts are longer (see tokens seen). A constant 'yes' (or 'no') judge scores 50% "
        "on the built-in cases; base is the untrained student (it answers arithmetic, not yes/no).",
    ]  # fmt: skip
    if cfg.data and not cfg.test_data:
        notes.append(
            "No --test-data: the held-out cases are a random 20% of --data, not held-out case types."
        )
    effect, why = guarded_effect(held, per_test.get("in-distribution"))
    if why:
        notes.append(why)
    return ArmRun(scores=held, facts=facts, notes=notes, metrics=metrics, effect=effect)


def guarded_effect(held: dict[str, np.ndarray], in_dist: dict[str, np.ndarray] | None,
                   margin: float = MARGIN) -> tuple[dict[str, float], str]:  # fmt: skip
    """The rule's effect: the paired difference criterion - labels on the held-out cases with its bootstrap CI
    (as for any two arms), unless the test cannot show the claim, and then nan (the verdict is inconclusive),
    with the reason. Written with the rule: (floor) no trained arm judges the in-distribution cases above
    chance (50%: its 95% CI lies above 0.5), so neither has learned the judgement at all; (ceiling) the
    labels arm leaves less than the margin to gain on the held-out cases. ``in_dist`` None (a user's data):
    only the ceiling check."""
    from reasonsift.retest.stats import arm_summary, compare

    eff = compare(held["criterion"], held["labels"])
    nan = {"diff": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "cohens_d": float("nan")}
    raw = f"criterion - labels = {eff['diff']:+.3f} [{eff['ci_low']:+.3f}, {eff['ci_high']:+.3f}]"
    if in_dist is not None:
        lows = {a: arm_summary(in_dist[a])["ci_low"] for a in ("labels", "criterion")}
        if max(lows.values()) <= 0.5:
            return nan, (
                "Floor: no trained arm judges the in-distribution cases above chance (95% CI lows "
                + ", ".join(f"{a} {v:.3f}" for a, v in lows.items())
                + f" <= 0.5), so the held-out comparison cannot show the claim: inconclusive by the rule "
                f"(the raw held-out difference: {raw})."
            )
    if float(held["labels"].mean()) > 1 - margin:
        return (
            nan,
            f"Ceiling: the labels arm leaves less than {margin:g} to gain on the held-out cases ({raw}).",
        )
    return eff, ""


SPEC = register(
    ClaimSpec(
        id="C9",
        title="Judgement from principles, not labels (unattested: a hypothesis)",
        claim="Judgement criteria are learned from explicit principles, not from labels.",
        source="None found: the note cites Wachsmuth et al., arXiv 2403.16084, a position paper with no "
        "experiments; tested here as a hypothesis.",
        attribution_note="Unattested. arXiv 2403.16084 (Wachsmuth et al.) is a position paper with no "
        "experiments; 'RATIO' and 'QOAM' appear in no paper or code found (CLAIMS.md). This re-test is a "
        "hypothesis harness (labels-only vs criterion-in-prompt fine-tuning, scored on held-out case types); "
        "its verdict is about the hypothesis, never a finding of the cited paper.",
        rule=Rule("better", "criterion", "labels", "held-out accuracy", MARGIN),
        needs="--model (a causal LM) and --data: judgement examples (question = the case, answer = the label, "
        "e.g. yes/no; meta.criterion = the criterion text, stated in the criterion arm's prompt), and "
        "--test-data: cases of types held out of --data (without it, a random 20% hold-out). Runs SFT: "
        "2 arms x seeds.",
        arms=(
            ("base", "the starting model, untrained"),
            ("labels", "SFT on the cases and their labels only"),
            ("criterion", "SFT on the same cases and labels with the criterion stated in the prompt"),
        ),
        comparisons=(("criterion", "labels"), ("labels", "base"), ("criterion", "base")),
        custom_effect=True,
        caveat=SCALE_CAVEAT + " C9 is a hypothesis with no source: a verdict here is about the hypothesis at "
        "this scale, not about any paper; a ~1M-parameter student reads no English, so a criterion stated in "
        "words can only help it through its form; run it with --model on an instruction-following model.",
        run=run,
    )
)
