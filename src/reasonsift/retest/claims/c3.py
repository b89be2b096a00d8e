"""C3: wrong (swapped) A* traces train a maze planner as well as correct ones — re-tested on the built-in maze.

Arms, each fine-tuning the same student on the same maze problems for the same steps (``reasonsift train
sft``), only the trace inside ``<think>...</think>`` differs: the problem's own A* trace (``correct``); the
trace of another problem of the training set, the plan kept (``swapped``, the paper's corruption:
:func:`reasonsift.tasks.corrupt.corrupt` mode ``swap``, a fresh derangement per seed); the problem's own
trace with its lines in a random order (``shuffled``); and no trace at all, the plan alone (``none``).
Every model answers the same held-out mazes greedily, in distribution (the training size) and out of
distribution (one size larger); each reply is scored for its plan (a shortest valid path: the task's
verifier, the rule's metric), its trace (the A* interpreter of the paper, ``Maze.check_trace``, on the text
inside ``<think>``) and both.

The built-in setting (calibrated, RETEST.md; see the numbers in :data:`SIZES`): the built-in ``tiny-arith``
fine-tuned on 4x4 mazes (maze difficulty 1) and tested on 4x4 (ID) and 5x5 (OOD, difficulty 2) mazes.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from reasonsift.retest.common import (
    BUILTIN_MODEL,
    cached_scores,
    cost_facts,
    one_thread,
    sizes,
    task_data,
    task_examples,
    trained_arm,
    user_split,
)
from reasonsift.retest.spec import ArmRun, ClaimSpec, register
from reasonsift.retest.stats import compare
from reasonsift.retest.verdict import Rule

TRAIN_DIFFICULTY = 1  # 4x4 mazes: the smallest the task makes (complete renderings of ~250 characters)
OOD_DIFFICULTY = 2  # 5x5 mazes, the test split; the task's own "ood" split (7x7) runs past 512 positions
# (arm, corruption mode of reasonsift.tasks.corrupt; None = the clean traces)
ARMS = (("correct", None), ("swapped", "swap"), ("shuffled", "shuffle"), ("none", "drop"))
# The rule counts only when the reference arm is off the floor and the ceiling (RETEST.md): at the floor
# every arm scores 0 and "at least as good" would hold vacuously.
FLOOR, CEILING = 0.10, 0.95
# Calibrated on one seed of the correct-trace arm (ID plan accuracy on 40 mazes): 150 steps 0.0, 600 steps
# 0.05 (traces well formed but h miscounted from the first line), 1200 steps 0.25 (trace valid 0.075; OOD
# 0.0). lr 3e-4 x 20 steps x 32 left the loss at chance (4.7). Below ~1000 steps the reference arm sits at the
# floor, far beyond the --quick budget: --quick only checks the pipeline (10 steps, 10 + 10 mazes: ~2.5 min
# of the combined `retest all --quick` on 2 idle cores) and ends inconclusive by the guard.
SIZES = {
    True: {"steps": 10, "batch_size": 16, "lr": 1e-3, "warmup": 1, "n_train": 320, "n_test": 10},
    False: {"steps": 1200, "batch_size": 16, "lr": 1e-3, "warmup": 120, "n_train": 19200, "n_test": 200},
}
GEN_SLACK = 1.25  # generation budget: 1.25 x the longest reference completion of the test set, + 16 tokens
MAX_NEW_TOKENS: int | None = None  # a fixed generation budget instead (tests)


def trace_valid(reply: str, example) -> float:
    """1.0 when the reply's trace (the text inside ``<think>...</think>``; after an unclosed ``<think>``) is
    non-empty and passes the example's task validator (``Task.check_trace``), 0.0 otherwise; NaN when the
    example belongs to no task with a validator. A validator that crashes counts as invalid."""
    from reasonsift.evaluate.quality import split_completion
    from reasonsift.evaluate.verify import task_name
    from reasonsift.tasks import TASKS, task_names

    task_names()  # loads the built-in registry
    name = task_name(example)
    if name not in TASKS:
        return float("nan")
    trace, _ = split_completion(reply)
    if not trace:
        return 0.0
    try:
        return float(TASKS[name].check_trace(example, trace).valid)
    except Exception:  # noqa: BLE001 - a crash on model text is not a valid trace
        return 0.0


def reply_scores(replies: list[str], examples: list) -> np.ndarray:
    """``[questions, 3]``: plan correct (the task's verifier), trace valid (:func:`trace_valid`), reply length
    in characters."""
    from reasonsift.evaluate.verify import verify_all

    plan = [float(o.correct) for o in verify_all(replies, examples)]
    trace = [trace_valid(r, e) for r, e in zip(replies, examples, strict=True)]
    return np.array([plan, trace, [float(len(r)) for r in replies]], dtype=np.float64).T.reshape(-1, 3)


def generate_and_score(model_dir: str | Path, examples: list) -> np.ndarray:
    """Greedy replies of the model (budget: :data:`GEN_SLACK` x the longest reference completion + 16
    tokens), scored by :func:`reply_scores`. Decoding runs on one thread: a batch of a 1M-parameter model is
    all per-token overhead, and a second thread only adds synchronisation (measured 10x the CPU time on
    busy cores)."""
    from reasonsift.data.render import completion_text
    from reasonsift.evaluate.accuracy import greedy_replies
    from reasonsift.models.load import load

    model, tok = load(str(model_dir), device="cpu", dtype="float32")
    longest = max(len(tok(completion_text(e), add_special_tokens=False).input_ids) for e in examples)
    budget = MAX_NEW_TOKENS or int(GEN_SLACK * longest) + 16
    with one_thread():
        replies = greedy_replies(model, tok, examples, batch_size=64, max_new_tokens=budget)
    return reply_scores(replies, examples)


def scored(root: Path, model_dir: Path, examples: list) -> np.ndarray:
    """:func:`generate_and_score`, cached in the run."""
    kind = f"c3-plan-trace-x{GEN_SLACK:g}-{MAX_NEW_TOKENS}"
    return cached_scores(root, model_dir, examples, kind, lambda: generate_and_score(model_dir, examples))


def plan_without_trace_share(plan: np.ndarray, trace: np.ndarray) -> float:
    """The share of correct plans whose trace is invalid (0 when no plan is correct)."""
    plan, trace = np.asarray(plan, dtype=np.float64), np.asarray(trace, dtype=np.float64)
    return float((plan * (1 - trace)).sum() / max(plan.sum(), 1.0))


def floor_guard(correct: np.ndarray, effect: dict[str, float]) -> tuple[dict[str, float], str | None]:
    """The rule's effect, or the same with its CI voided (NaN: the verdict is inconclusive) when the
    reference arm's mean is below :data:`FLOOR` or above :data:`CEILING`, with the reason."""
    m = float(np.mean(correct))
    if FLOOR <= m <= CEILING:
        return effect, None
    where = "floor" if m < FLOOR else "ceiling"
    reason = (
        f"correct-trace arm at the {where} ({m:.1%} ID plan accuracy, outside [{FLOOR:.0%}, {CEILING:.0%}]): "
        f"the rule is not applied and the verdict is inconclusive (the paired difference was "
        f"{effect['diff']:+.3f}, CI [{effect['ci_low']:+.3f}, {effect['ci_high']:+.3f}])"
    )
    return {**effect, "ci_low": math.nan, "ci_high": math.nan}, reason


def corrupted(root: Path, clean: Path, mode: str, seed: int) -> Path:
    """``clean`` with every trace corrupted by ``mode`` (corruption seed = the training seed), written under
    the run's data folder (listed in its manifest)."""
    from reasonsift.data.io import read_examples, write_examples
    from reasonsift.tasks.corrupt import corrupt

    path = Path(root) / "data" / f"c3-{clean.stem}-{mode}-c{seed}.jsonl"
    if not path.is_file():
        write_examples(corrupt(read_examples(clean).examples, mode, seed=seed), path)
    return path


def setting(cfg, out: Path) -> tuple[str, Path, list, list, dict]:
    """The student, the clean training file, the ID and OOD test examples (OOD empty for a user's data) and
    the sizes."""
    sz = sizes(SIZES[cfg.quick], cfg)
    model = cfg.model or str(BUILTIN_MODEL)
    if cfg.data:
        data, test = user_split(cfg, out, sz["n_test"])
        return model, data, test, [], sz
    n_train = max(sz["n_train"], sz["steps"] * sz["batch_size"])
    data = task_data(cfg.out_dir, "maze", n_train, (TRAIN_DIFFICULTY,))
    test = task_examples("maze", sz["n_test"], (TRAIN_DIFFICULTY,))
    ood = task_examples("maze", sz["n_test"], (OOD_DIFFICULTY,))
    return model, data, test, ood, sz


def run(cfg, out: Path) -> ArmRun:
    from reasonsift.data.io import read_examples

    model, clean, test, ood, sz = setting(cfg, out)
    root = Path(cfg.out_dir)
    kw = {"steps": sz["steps"], "batch_size": sz["batch_size"], "lr": sz["lr"], "warmup": sz["warmup"]}
    sets = {"ID": test, **({"OOD": ood} if ood else {})}
    res: dict[str, dict[str, np.ndarray]] = {s: {} for s in sets}  # set -> arm -> [q, 3, seeds]
    facts: dict[str, dict] = {}
    for name, mode in ARMS:
        cols: dict[str, list] = {s: [] for s in sets}
        costs = []
        for seed in cfg.seed_list:
            data = clean if mode is None else corrupted(root, clean, mode, seed)
            run_dir, cost = trained_arm(root, f"c3-{name}", model, data, seed, **kw)
            costs.append(cost)
            for s, exs in sets.items():
                cols[s].append(scored(root, run_dir / "model", exs))
        for s in sets:
            res[s][name] = np.stack(cols[s], -1)
        facts[name] = cost_facts(costs, sz["steps"]) | {
            f"reply_chars_{s.lower()}": float(res[s][name][:, 2].mean()) for s in sets
        }
    scores = {a: x[:, 0] for a, x in res["ID"].items()}
    metrics: dict[str, dict[str, np.ndarray]] = {}
    has_trace = not np.isnan(res["ID"]["correct"][:, 1]).any()
    for s, x in res.items():
        if s == "OOD":
            metrics["plan accuracy (OOD)"] = {a: v[:, 0] for a, v in x.items()}
        if has_trace:
            metrics[f"trace valid ({s})"] = {a: v[:, 1] for a, v in x.items()}
            metrics[f"plan and trace valid ({s})"] = {a: v[:, 0] * v[:, 1] for a, v in x.items()}
    for a in scores:
        if has_trace:
            x = res["ID"][a]
            facts[a]["valid_plan_invalid_trace_share_id"] = plan_without_trace_share(x[:, 0], x[:, 1])
    effect, guard = floor_guard(scores["correct"], compare(scores["swapped"], scores["correct"]))
    train_q = {e.question for e in read_examples(clean).examples}
    seen = sum(e.question in train_q for e in [*test, *ood])
    notes = [
        f"Rule guard, written with the rule: it applies only while the correct-trace arm's ID plan accuracy "
        f"lies in [{FLOOR:.0%}, {CEILING:.0%}]; outside, the verdict is inconclusive (at the floor every arm "
        "scores 0 and 'at least as good' would hold vacuously).",
        f"{len(test)} ID" + (f" + {len(ood)} OOD" if ood else "") + f" held-out mazes x {len(cfg.seed_list)} "
        f"seeds; {sz['steps']} SFT steps of {sz['batch_size']} sequences per arm, lr {sz['lr']:g} cosine; "
        f"model {model}; "
        + (f"data {cfg.data}" if cfg.data else f"maze difficulty {TRAIN_DIFFICULTY} (4x4) -> ID "
           f"difficulty {TRAIN_DIFFICULTY}, OOD difficulty {OOD_DIFFICULTY} (5x5)")
        + f"; {seen} test questions also occur in the training data.",
        "Corruptions (reasonsift.tasks.corrupt, seed = the training seed): swapped = the trace of another "
        "training problem (a derangement), plan kept; shuffled = the problem's own trace lines in a random "
        "order; none = no trace, the plan alone. Equal steps; tokens seen differ (none sees the plans only).",
    ]  # fmt: skip
    if guard:
        notes.append(guard)
    if ood:
        o = metrics["plan accuracy (OOD)"]
        for a in ("swapped", "shuffled", "none"):
            c = compare(o[a], o["correct"])
            notes.append(
                f"OOD plan accuracy, {a} - correct: {c['diff']:+.3f} [{c['ci_low']:+.3f}, {c['ci_high']:+.3f}] "
                "(paired bootstrap; the paper: swapped generalises better out of distribution)."
            )
    if has_trace:
        notes.append(
            "Correct-trace arm, ID: a share of "
            f"{facts['correct']['valid_plan_invalid_trace_share_id']:.1%} of its valid plans came with an "
            "invalid trace (the paper: correct-trace models often emit invalid traces with valid plans)."
        )
    return ArmRun(scores=scores, facts=facts, notes=notes, metrics=metrics, effect=effect)


SPEC = register(
    ClaimSpec(
        id="C3",
        title="Wrong traces work as well as right ones",
        claim="Intermediate reasoning tokens need not be semantically correct: models trained on swapped "
        "(wrong) traces reach the same plan accuracy as models trained on correct traces, and generalise "
        "better out of distribution.",
        source='Stechly, Kambhampati et al., "Beyond Semantics: The Unreasonable Effectiveness of Reasonless '
        'Intermediate Tokens", arXiv 2505.13775 (transformers trained from scratch on A* traces of 30x30 '
        "mazes).",
        attribution_note=None,
        rule=Rule("at_least", "swapped", "correct", "ID plan accuracy", 0.05),
        needs="--model (a causal LM whose tokenizer covers the traces) and --data (examples with traces and "
        "answers, two or more per task so traces can be swapped; --test-data or a 20% hold-out). Trace "
        "validity needs a task with a validator (meta.task of a built-in task); the OOD split is built-in "
        "maze only. Runs SFT: 4 arms x seeds.",
        arms=(
            ("correct", "SFT on the problem's own A* trace and plan"),
            ("swapped", "SFT on another problem's trace with the problem's own plan (the paper's swap)"),
            ("shuffled", "SFT on the problem's own trace, lines in a random order, and its plan"),
            ("none", "SFT on the plan alone, no trace"),
        ),
        comparisons=(("shuffled", "correct"), ("none", "correct"), ("swapped", "none")),
        custom_effect=True,
        run=run,
    )
)
