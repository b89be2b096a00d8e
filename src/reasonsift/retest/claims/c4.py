"""C4: the format of the training data (multiple choice vs free form) shapes a model's reasoning strategy more
than its domain does — re-tested with a structural strategy measure on generated traces.

Arms: one student fine-tuned per cell of format x domain (``arith-mc``, ``arith-ff``, ``logic-mc``, ...), the
same steps, batch and learning rate for every cell, each seed a separate run; ``base`` is the untrained
student. Every trained model answers the same fixed probe set (every domain, both formats, greedy), and each
reply's trace gets the *breadth share* (:func:`breadth_share`): candidates opened / (candidates opened + chain
depth), where a step that names an option (``... is option B``) opens that candidate and every other step
deepens the single chain. Trained models are the units: a model's value is its mean breadth share over the
probes; Cohen's d (pooled SD) between the two format groups is set against the largest |d| between two domain
groups (:func:`format_vs_domain`), and the bootstrap resamples probe questions (:func:`effect_ci`).
"""

from __future__ import annotations

import itertools
import re
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
from reasonsift.retest.verdict import Rule

DOMAINS = ("arith", "logic", "maze")
FORMATS = ("multiple_choice", "free_form")
SHORT = {"multiple_choice": "mc", "free_form": "ff"}
DIFFICULTY = 1  # the smallest of each task: logic and maze sequences are ~4x arith's (and ~5x the step time)
N_BOOT = 2000

# Sizes. The whole --quick must fit in ~4 min on 2 idle cores: 18 SFT runs (6 cells x 3 seeds), 12 of them on
# logic/maze (~0.06 s per sequence, arith ~0.01), so ~160 sequences per cell, and 19 models answering the
# probes (~3 s each on one thread); n_test: probes in all (a sixth per domain x format).
# Calibration (one seed each): 24 x 8 at lr 3e-3 broke the arith students' chains (0 of 24 probes valid) and
# taught no option line; 40 x 16 at lr 1e-3 kept arith chains and began the option line (a newline, then
# noise); 150 x 16 at lr 3e-3 on logic MC still wrote malformed chains (loss 0.85). The full size is not
# calibrated: the built-in student has to learn logic and maze from nothing (see the run's last note).
C4_SFT = {
    True: {"steps": 20, "batch_size": 8, "n_test": 18, "lr": 1e-3, "warmup": 2},
    False: {"steps": 400, "batch_size": 16, "n_test": 96, "lr": 2e-3, "warmup": 40},
}

_OPTION_REF = re.compile(r"\boption\s+([A-Z])\b")


# -- the strategy measure ------------------------------------------------------------------------------------


def trace_text(reply: str) -> str:
    """The reasoning of a reply: the text between the first ``<think>`` and the last ``</think>``; all that
    follows ``<think>`` when it is never closed (a reply cut at the token budget); ``""`` with no ``<think>``
    (an answer only; a ``</think>`` without ``<think>``: the text before it)."""
    if "</think>" in reply:
        body = reply.rsplit("</think>", 1)[0]
        return body.split("<think>", 1)[1] if "<think>" in body else body
    return reply.split("<think>", 1)[1] if "<think>" in reply else ""


def trace_steps(trace: str) -> list[str]:
    """The steps of a trace: its lines, each split again at ``;`` (the arith form ``a+b=c;c-d=e``), stripped,
    empty pieces dropped. One rule for every domain, so that a chain's depth is counted alike."""
    return [p.strip() for line in trace.splitlines() for p in line.split(";") if p.strip()]


def strategy(reply: str) -> tuple[int, int]:
    """``(candidates, depth)`` of a reply's trace: ``candidates`` = the distinct option letters named by its
    steps (``option B``: the built-in multiple-choice commit ``75 is option B``), ``depth`` = the steps that
    name no option (links of the single chain)."""
    letters: set[str] = set()
    depth = 0
    for step in trace_steps(trace_text(reply)):
        named = _OPTION_REF.findall(step)
        if named:
            letters.update(named)
        else:
            depth += 1
    return len(letters), depth


def breadth_share(candidates: int, depth: int) -> float:
    """``candidates / (candidates + depth)``: 0 for a pure chain (or no trace), towards 1 for a trace that
    compares candidates rather than deriving."""
    return candidates / (candidates + depth) if candidates + depth else 0.0


def chain_valid(example, reply: str) -> float:
    """1.0 when the trace, without its option-naming lines, passes the task's free-form trace check for the
    probe (the chain is well formed and right), else 0.0; ``nan`` for an example of no built-in task."""
    from reasonsift.tasks import TASKS, get_task

    name = example.meta.get("task")
    get_task("arith")  # loads the built-in registry
    if name not in TASKS:
        return float("nan")
    lines = [ln for ln in trace_text(reply).splitlines() if not _OPTION_REF.search(ln)]
    chain = "\n".join(lines).strip()
    return float(bool(chain) and get_task(name).validate_trace(example, chain).valid)


# -- the effect: Cohen's d of format groups vs domain groups -------------------------------------------------


def _d(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cohen's d (pooled SD, ddof 1) of ``a`` [R, na] vs ``b`` [R, nb], per row; nan where the SD is 0."""
    na, nb = a.shape[-1], b.shape[-1]
    ss = ((a - a.mean(-1, keepdims=True)) ** 2).sum(-1) + ((b - b.mean(-1, keepdims=True)) ** 2).sum(-1)
    sd = np.sqrt(ss / (na + nb - 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, (a.mean(-1) - b.mean(-1)) / np.where(sd > 0, sd, 1.0), np.nan)


def format_vs_domain(values: np.ndarray, formats: list[str], domains: list[str]) -> dict[str, np.ndarray]:
    """Per row of ``values`` [R, models] (one value per trained model; a model's format and domain given):
    ``d_format`` = |d| between the two format groups; ``d_domain`` = the largest |d| between two domain
    groups; ``effect`` = d_format - d_domain (nan where a d is undefined)."""
    v = np.atleast_2d(np.asarray(values, dtype=np.float64))
    f, dm = np.asarray(formats), np.asarray(domains)
    fs, ds = sorted(set(formats)), sorted(set(domains))
    if len(fs) != 2 or len(ds) < 2:
        raise ValueError(f"models: need two formats and two or more domains, got {fs} and {ds}")
    d_fmt = np.abs(_d(v[:, f == fs[0]], v[:, f == fs[1]]))
    pairs = [np.abs(_d(v[:, dm == x], v[:, dm == y])) for x, y in itertools.combinations(ds, 2)]
    d_dom = np.max(np.stack(pairs), 0)  # nan if any pair is nan
    return {"d_format": d_fmt, "d_domain": d_dom, "effect": d_fmt - d_dom}


def effect_ci(per_cell: dict[str, np.ndarray], cells: dict[str, tuple[str, str]], *, n_boot: int = N_BOOT,
              seed: int = 0) -> dict[str, float]:  # fmt: skip
    """The rule's effect with a 95% percentile bootstrap CI. ``per_cell[name]``: [probes, seeds] of the measure
    for the cell's models (same probes, same order); ``cells[name]`` = (domain, format). Each seed's model is a
    unit (its mean over the probes); a replicate resamples the probe questions once for every model (paired)."""
    from reasonsift.evaluate.metrics import bootstrap_indices

    names = list(cells)
    n_q = per_cell[names[0]].shape[0]
    formats = [cells[c][1] for c in names for _ in range(per_cell[c].shape[1])]
    domains = [cells[c][0] for c in names for _ in range(per_cell[c].shape[1])]
    point = np.concatenate([per_cell[c].mean(0) for c in names])
    idx = bootstrap_indices(n_q, n_boot=n_boot, seed=seed)
    reps = np.concatenate([per_cell[c][idx].mean(1) for c in names], axis=1)  # [n_boot, models]
    est, boot = format_vs_domain(point, formats, domains), format_vs_domain(reps, formats, domains)
    out: dict[str, float] = {}
    for key in ("effect", "d_format", "d_domain"):
        r = boot[key][np.isfinite(boot[key])]
        lo, hi = np.quantile(r, [0.025, 0.975]) if r.size else (np.nan, np.nan)
        out[key], out[f"{key}_ci_low"], out[f"{key}_ci_high"] = float(est[key][0]), float(lo), float(hi)
    return {"diff": out["effect"], "ci_low": out["effect_ci_low"], "ci_high": out["effect_ci_high"],
            "cohens_d": out["d_format"], **out}  # fmt: skip


# -- the experiment -------------------------------------------------------------------------------------------


def reply_budget(tok, examples: list) -> int:
    """New tokens a reply may take: 1.25 x the longest reference reply of ``examples`` + 16, so that a student
    is never cut before it could finish the reference's strategy (its option line comes last)."""
    from reasonsift.data.render import completion_text

    longest = max(len(tok(completion_text(e), add_special_tokens=False).input_ids) for e in examples)
    return int(1.25 * longest) + 16


def probe_scores(root, model_dir, probes: list) -> np.ndarray:
    """Per probe: breadth share, candidates, depth, correct (the task's verifier), chain valid; cached. Greedy
    replies, generated per domain with that domain's :func:`reply_budget`."""

    def fn() -> np.ndarray:
        import torch

        from reasonsift.evaluate.accuracy import greedy_replies
        from reasonsift.evaluate.verify import verify_all
        from reasonsift.models.load import load

        model, tok = load(str(model_dir), device="cpu", dtype="float32")
        groups: dict[str, list[int]] = {}
        for i, e in enumerate(probes):
            groups.setdefault(str(e.meta.get("task", e.domain)), []).append(i)
        replies = [""] * len(probes)
        for idx in groups.values():
            exs = [probes[i] for i in idx]
            with torch.no_grad(), one_thread():
                got = greedy_replies(model, tok, exs, batch_size=64, max_new_tokens=reply_budget(tok, exs))
            for i, r in zip(idx, got, strict=True):
                replies[i] = r
        ok = [float(o.correct) for o in verify_all(replies, probes)]
        rows = []
        for ex, r, c in zip(probes, replies, ok, strict=True):
            b, d = strategy(r)
            rows.append([breadth_share(b, d), b, d, c, chain_valid(ex, r)])
        return np.array(rows, dtype=np.float64)

    return cached_scores(root, model_dir, probes, "c4-probe", fn)


def setting(cfg, out: Path) -> tuple[str, dict[str, tuple[str, str, Path]], list, dict]:
    """The student, the cells ``{name: (domain, format, training file)}``, the probes and the sizes: the
    user's (cells = the (domain, format) groups of --data), else the built-in tasks at difficulty 1."""
    sz = sizes(C4_SFT[cfg.quick], cfg)
    model = cfg.model or str(BUILTIN_MODEL)
    n_train = sz["steps"] * sz["batch_size"]
    cells: dict[str, tuple[str, str, Path]] = {}
    if cfg.data:
        from reasonsift.data.io import read_examples, write_examples

        data, probes = user_split(cfg, out, sz["n_test"])
        groups: dict[tuple[str, str], list] = {}
        for e in read_examples(data).examples:
            groups.setdefault((e.domain or "?", e.format or "free_form"), []).append(e)
        doms, fmts = {d for d, _ in groups}, {f for _, f in groups}
        if len(fmts) != 2 or len(doms) < 2:
            raise ValueError(
                f"data: C4 needs examples of two formats and two or more domains, got formats {sorted(fmts)} "
                f"and domains {sorted(doms)}"
            )
        for (dom, fmt), exs in sorted(groups.items()):
            path = Path(out) / "cells" / f"{dom}-{SHORT.get(fmt, fmt)}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            write_examples(exs, path)
            cells[f"{dom}-{SHORT.get(fmt, fmt)}"] = (dom, fmt, path)
        return model, cells, probes, sz
    for dom in DOMAINS:
        for fmt in FORMATS:
            path = task_data(
                cfg.out_dir, dom, n_train, (DIFFICULTY,), fmt=None if fmt == "free_form" else fmt
            )
            cells[f"{dom}-{SHORT[fmt]}"] = (dom, fmt, path)
    per = max(1, sz["n_test"] // (len(DOMAINS) * len(FORMATS)))
    probes = [
        e
        for dom in DOMAINS
        for fmt in FORMATS
        for e in task_examples(dom, per, (DIFFICULTY,), fmt=None if fmt == "free_form" else fmt)
    ]
    return model, cells, probes, sz


def run(cfg, out: Path) -> ArmRun:
    model, cells, probes, sz = setting(cfg, out)
    root, seeds = cfg.out_dir, cfg.seed_list
    kw = {"steps": sz["steps"], "batch_size": sz["batch_size"], "lr": sz["lr"], "warmup": sz["warmup"]}
    base = probe_scores(root, model, probes)
    per: dict[str, np.ndarray] = {"base": np.repeat(base[:, :, None], len(seeds), 2)}  # [q, 5, seeds]
    facts: dict[str, dict] = {}
    for name, (dom, fmt, data) in cells.items():
        cols, costs = [], []
        for seed in seeds:
            run_dir, cost = trained_arm(root, f"c4-{name}", model, data, seed, **kw)
            cols.append(probe_scores(root, run_dir / "model", probes))
            costs.append(cost)
        per[name] = np.stack(cols, 2)
        own = [i for i, e in enumerate(probes) if cell_of(e, bool(cfg.data)) == (dom, fmt)]
        facts[name] = {
            **cost_facts(costs, sz["steps"]),
            "domain": dom,
            "format": fmt,
            "candidates_mean": float(per[name][:, 1].mean()),
            "depth_mean": float(per[name][:, 2].mean()),
            "own_cell_accuracy": float(per[name][own, 3].mean()) if own else float("nan"),
        }
    facts["base"] = {"candidates_mean": float(base[:, 1].mean()), "depth_mean": float(base[:, 2].mean())}
    scores = {a: v[:, 0] for a, v in per.items()}
    metrics = {
        "probe accuracy": {a: v[:, 3] for a, v in per.items()},
        "traces naming an option": {a: (v[:, 1] > 0).astype(np.float64) for a, v in per.items()},
    }
    if np.isfinite(base[:, 4]).all():
        metrics["chain valid"] = {a: v[:, 4] for a, v in per.items()}
    groups = {name: (dom, fmt) for name, (dom, fmt, _) in cells.items()}
    effect = effect_ci({n: per[n][:, 0] for n in cells}, groups)
    parts = {
        what: effect_ci({n: per[n][:, k] for n in cells}, groups)
        for what, k in (("candidates", 1), ("depth", 2), ("probe accuracy", 3))
    }
    n_dom = len({d for d, _ in groups.values()})
    notes = [
        f"{len(probes)} probes ({', '.join(sorted({e.domain for e in probes}))}; both formats) x "
        f"{len(seeds)} seeds; {len(cells)} cells ({n_dom} domains x 2 formats), each {sz['steps']} SFT steps "
        f"of {sz['batch_size']} sequences, lr {sz['lr']:g} cosine; model {model}; "
        + (f"data {cfg.data}" if cfg.data else f"built-in tasks at difficulty {DIFFICULTY}"),
        "Strategy measure: breadth share = candidates / (candidates + depth) of each probe's trace; candidates "
        "= distinct option letters its steps name ('option B'), depth = its other steps (lines, split at ';'). "
        "Unit = one trained model (a cell x a seed: its mean over the probes). d_format = |Cohen's d| (pooled "
        "SD) between the two format groups; d_domain = the largest |d| between two domain groups; effect = "
        "d_format - d_domain. 95% CI: 2,000 bootstrap resamples of the probe questions, the same for every "
        "model; seeds enter as replicate models (the within-group spread), not resampled.",
        f"Breadth share: d_format {effect['d_format']:.2f} [{effect['d_format_ci_low']:.2f}, "
        f"{effect['d_format_ci_high']:.2f}], d_domain {effect['d_domain']:.2f} [{effect['d_domain_ci_low']:.2f}, "
        f"{effect['d_domain_ci_high']:.2f}] (the note: d up to 1.5 by format, < 0.2 by domain; its arithmetic, "
        "not the paper's).",
        "Components (not the rule): "
        + "; ".join(f"{w}: d_format {p['d_format']:.2f}, d_domain {p['d_domain']:.2f}" for w, p in parts.items())
        + ".",
        "Deviation: the paper labels strategies with a judge model and contrastive rubrics; here the strategy is "
        "read structurally from the trace text (CLAIMS.md's small-scale alternative). The built-in multiple-"
        "choice traces differ from the free-form ones by one last line ('<answer> is option <L>'), while the "
        "domains' chains differ in form and length: the measure asks which of the two a student carries onto "
        "probes of every domain and format.",
    ]  # fmt: skip
    if not np.isfinite(effect["diff"]):
        notes.append(
            "The rule's effect is undefined (nan): a pooled SD of the breadth share is 0 (traces naming an "
            f"option: {int((np.stack([per[n][:, 1] for n in cells]) > 0).sum())} of "
            f"{len(probes) * len(seeds) * len(cells)} replies of the trained models), so Cohen's d is undefined "
            "and the verdict inconclusive."
        )
    if not cfg.data:
        notes.append(
            "Caveat of the built-in student: tiny-arith was pretrained on arith only; logic and maze are new "
            "languages to it (its first loss on logic ~22 nats/token), and at these step counts it writes "
            "malformed logic/maze chains (see chain valid): the measure then reads the structure it has picked "
            "up, not a mastered strategy. A student pretrained on every domain would make the test sharper."
        )
    return ArmRun(scores=scores, facts=facts, notes=notes, metrics=metrics, effect=effect)


def cell_of(example, user: bool) -> tuple[str, str]:
    """The (domain, format) cell a probe belongs to: its built-in task (``arith``, ...) or, for a user's
    data, its ``domain`` field."""
    dom = example.domain if user else str(example.meta.get("task", example.domain))
    return dom, example.format or "free_form"


SPEC = register(
    ClaimSpec(
        id="C4",
        title="Format shapes strategy more than domain",
        claim="The format of the training data (multiple-choice vs free-form) shapes a model's reasoning "
        "strategy more than its domain does: Cohen's d up to 1.5 between formats, below 0.2 between domains "
        "(7.5x).",
        source='Lee et al., "The CoT Encyclopedia: Analyzing, Predicting, and Controlling how a Reasoning Model '
        'will Think", arXiv 2505.10185 (strategy labels from contrastive rubrics applied by a judge model).',
        attribution_note="The note cites arXiv 2504.15777, which is Tina (LoRA RL), not this finding; the "
        "source is the CoT Encyclopedia, arXiv 2505.10185. 'd up to 1.5, domain < 0.2, 7.5x' is the note's "
        "arithmetic, not the paper's (CLAIMS.md).",
        rule=Rule("better", "format", "domain", "breadth share (effect: Cohen's d)", 0.5, unit="value"),
        needs="--model (a causal LM to fine-tune) and --data: examples of two or more domains (the `domain` "
        "field) in both formats (`format` multiple_choice and free_form, multiple-choice answers as letters); "
        "one SFT run per (domain, format) cell and seed; --test-data: the common probe set (default: a 20% "
        "hold-out). The measure reads option letters ('option B') in the traces: for traces in another "
        "style, a judge model is the pluggable alternative (not built).",
        arms=(
            ("base", "the starting model, untrained"),
            *(
                (f"{d}-{SHORT[f]}", f"SFT on {d} ({f.replace('_', '-')}), difficulty {DIFFICULTY}")
                for d in DOMAINS
                for f in FORMATS
            ),
        ),
        custom_effect=True,
        run=run,
    )
)
