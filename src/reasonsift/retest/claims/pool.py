"""The setting C7, s1 and LIMO share: a pool of mixed difficulty, subsets of it chosen by a recipe or at random,
and the full pool, each fine-tuned for the same optimizer steps and tested on held-out questions.

The built-in pool is arith of difficulties 1 and 2 (``POOL``), so that difficulty and quality filters have
something to act on: the built-in ``tiny-arith`` (pretrained on difficulty 1) solves ~70% of difficulty 1 and
~27% of difficulty 2 greedily, and nothing of difficulty 3 (3-digit operands: a completion NLL of 7.3 nats per
token under the student, against 0.04 on difficulty 1 and 1.6 on difficulty 2; a first calibration with
difficulty 3 in the pool took the full-pool arm from 0.25 to 0.10 on difficulty 2 in 30 steps). Tested on arith
difficulty 2, the same held-out questions as C1. Every subset has ``fraction`` of the pool (10%: Cherry LLM's
IFD budget; s1 and LIMO kept smaller shares of bigger pools) and trains for the same steps as the full pool
(so it sees each example ``1 / fraction`` times as often; s1 trained its 1K for 5 epochs).

Shared work: the full-pool arm is ``trained_arm(cfg.out_dir, "pool-full", ...)`` on the same data file with the
same options in all three claims, and every subset arm is ``trained_arm(cfg.out_dir, "sel", ...)`` keyed by its
data, so the random subsets (the same draw for the same seed) are trained once per run too; the student's
profile of the pool (IFD) and its eval runs on the pool (solve rates) are computed once per run and reused.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reasonsift.retest.common import (
    ARMS_DIR,
    BUILTIN_MODEL,
    _digest,
    cost_facts,
    greedy,
    model_key,
    sizes,
    task_data,
    task_examples,
    trained_arm,
    user_split,
)

DIFFICULTIES = (1, 2)  # the built-in pool
TEST_DIFFICULTY = 2
# quick / full sizes; every arm steps x batch_size sequences, whatever its data (equal optimizer steps).
# Calibrated on the full pool (one seed, lr 3e-4 cosine over 120 steps, greedy on the 200 held-out questions;
# base 0.25): SFT first costs the student accuracy, then wins it back: 0.155 at step 20, 0.12 at 40, 0.21 at
# 60, 0.225 at 80, 0.24 at 100, 0.25 at 120 (lr 1e-4: 0.155-0.19 all the way to 120; batch 8 or 16: no faster
# out of the dip; lr 1e-3: 0.08 at step 10). --quick takes 60 steps, the most the time budget allows; the
# full size 200 (ARITH_SFT's).
POOL = {
    True: {"n_pool": 480, "fraction": 0.1, "steps": 60, "batch_size": 32, "lr": 3e-4, "warmup": 6,
           "n_test": 200, "limo_k": 4},
    False: {"n_pool": 1920, "fraction": 0.1, "steps": 200, "batch_size": 32, "lr": 3e-4, "warmup": 20,
            "n_test": 400, "limo_k": 8},
}  # fmt: skip
FULL, SUBSET = "pool-full", "sel"  # trained_arm names: the same in every claim, so runs are shared


@dataclass
class Pool:
    model: str
    path: Path  # the pool's training file
    examples: list
    test: list
    sz: dict
    n: int  # the budget: examples in every subset
    builtin: bool
    _columns: dict[str, dict] = field(default_factory=dict)  # joined run columns, by run directory

    def train_kw(self) -> dict[str, Any]:
        sz = self.sz
        return {"steps": sz["steps"], "batch_size": sz["batch_size"], "lr": sz["lr"], "warmup": sz["warmup"]}


def pool_setting(cfg, out: Path) -> Pool:
    """The student, the pool, the held-out questions and the sizes: the user's (``--data`` is the pool), else
    the built-in arith pool (difficulties 1-2) tested on arith difficulty 2."""
    from reasonsift.data.io import read_examples

    sz = sizes(POOL[cfg.quick], cfg)
    model = cfg.model or str(BUILTIN_MODEL)
    if cfg.data:
        path, test = user_split(cfg, out, sz["n_test"])
    else:
        path = task_data(cfg.out_dir, "arith", sz["n_pool"], DIFFICULTIES)
        test = task_examples("arith", sz["n_test"], (TEST_DIFFICULTY,))
    examples = read_examples(path).examples
    n = max(1, round(sz["fraction"] * len(examples)))
    return Pool(model, Path(path), examples, test, sz, n, builtin=not cfg.data)


def setting_note(cfg, pool: Pool) -> str:
    sz = pool.sz
    what = (
        f"data {cfg.data}"
        if cfg.data
        else f"built-in pool: arith difficulties {DIFFICULTIES}, tested on "
        f"held-out arith difficulty {TEST_DIFFICULTY}"
    )
    return (
        f"{len(pool.test)} held-out questions x {len(cfg.seed_list)} seeds; pool of {len(pool.examples)} examples, "
        f"subsets of {pool.n} ({sz['fraction']:.0%}); every arm {sz['steps']} SFT steps of {sz['batch_size']} "
        f"sequences (lr {sz['lr']:g} cosine, warm-up {sz['warmup']}): the full pool is seen "
        f"{sz['steps'] * sz['batch_size'] / len(pool.examples):.2g} times, a subset "
        f"{sz['steps'] * sz['batch_size'] / pool.n:.2g} times; model {pool.model}; {what}."
    )


def regime_note(scores: dict[str, np.ndarray], steps: int) -> list[str]:
    """A note when the full-pool arm ends below the untrained student: the arms then compare SFT's early dip
    (calibration above), not what the data teaches once training has settled."""
    full, base = float(scores["full"].mean()), float(scores["base"].mean())
    if full >= base:
        return []
    return [
        f"At {steps} steps the full-pool arm ({full:.1%}) is still below the untrained student ({base:.1%}): "
        "fine-tuning first costs this student accuracy and wins it back later (one seed on the full pool: "
        "12% at 40 steps, 21% at 60, 25% at 120), so these arms compare early training. The full size "
        "(200 steps) is the setting to read for the settled effect."
    ]


def difficulty_mix(examples: list) -> dict[str, int]:
    """Examples per ``meta["difficulty"]`` (built-in data), ``{}`` when none has one."""
    c = Counter(e.meta.get("difficulty") for e in examples if isinstance(e.meta, dict))
    c.pop(None, None)
    return {str(k): int(v) for k, v in sorted(c.items())}


def write_subset(cfg, tag: str, seed: int, examples: list) -> Path:
    """``examples`` as a training file of the run (same examples -> same bytes -> a shared training run)."""
    from reasonsift.data.io import write_examples

    path = Path(cfg.out_dir) / "data" / "subsets" / f"{tag}-n{len(examples)}-s{seed}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_examples(examples, path)
    return path


def train_eval(cfg, pool: Pool, name: str, data: dict[int, Path], extra: dict[int, dict] | None = None,
               ) -> tuple[np.ndarray, dict[str, Any]]:  # fmt: skip
    """Fine-tune the student on ``data[seed]`` for every seed (``trained_arm`` under ``name``) and score it
    greedily on the held-out questions: ``[questions, seeds]`` and the arm's cost facts."""
    from reasonsift.data.io import read_examples

    cols, costs, sizes_, mixes = [], [], [], []
    for seed in cfg.seed_list:
        run_dir, cost = trained_arm(cfg.out_dir, name, pool.model, data[seed], seed, **pool.train_kw())
        cols.append(greedy(cfg.out_dir, run_dir / "model", pool.test))
        costs.append(cost)
        exs = read_examples(data[seed]).examples
        sizes_.append(len(exs))
        mixes.append(difficulty_mix(exs))
    facts = cost_facts(costs, pool.sz["steps"])
    facts["n_examples"] = sizes_[0] if len(set(sizes_)) == 1 else sizes_
    facts["epochs"] = round(pool.sz["steps"] * pool.sz["batch_size"] / float(np.mean(sizes_)), 2)
    if any(mixes):
        facts["difficulty_mix"] = mixes[0] if all(m == mixes[0] for m in mixes) else mixes
    for seed_extra in (extra or {}).values():
        for k, v in seed_extra.items():
            facts.setdefault(k, []).append(v)
    return np.stack(cols, 1), facts


def full_arm(cfg, pool: Pool) -> tuple[np.ndarray, dict[str, Any]]:
    """The whole pool, the same run in every claim that uses it."""
    return train_eval(cfg, pool, FULL, dict.fromkeys(cfg.seed_list, pool.path))


def base_scores(cfg, pool: Pool) -> np.ndarray:
    return np.repeat(greedy(cfg.out_dir, pool.model, pool.test)[:, None], len(cfg.seed_list), 1)


# --- runs of the student on the pool, once per run -----------------------------------------------------


def _cached_run(cfg, kind: str, key: dict, make) -> Path:
    """A run directory under ``RUN/arms`` made once by ``make(dir)`` for ``key`` (a ``done.json`` holds it)."""
    from reasonsift.utils.io import atomic_write_text

    run_dir = Path(cfg.out_dir) / ARMS_DIR / f"{kind}-{_digest(key)[:12]}"
    done = run_dir / "done.json"
    norm = json.loads(json.dumps(key, default=str))
    if done.is_file() and json.loads(done.read_text()) == norm:
        return run_dir
    make(run_dir)
    atomic_write_text(done, json.dumps(norm, sort_keys=True))
    return run_dir


def student_profile(cfg, pool: Pool) -> Path:
    """``reasonsift profile`` of the pool by the student (IFD, r-IFD, entropies), once per run."""
    from reasonsift.profile import ProfileConfig, run_profile
    from reasonsift.utils.io import file_sha256

    key = {"model": model_key(pool.model), "data": file_sha256(pool.path), "ifd": True}

    def make(d: Path) -> None:
        pc = ProfileConfig(data=str(pool.path), model=pool.model, out_dir=str(d), infogain=False, top_k=0,
                           overwrite=True, progress=False)  # fmt: skip
        run_profile(pc)

    return _cached_run(cfg, "profile", key, make)


def student_eval(cfg, pool: Pool, data: Path, n: int) -> Path:
    """``reasonsift eval`` of the student on ``data``: greedy (``n`` = 1) or ``n`` samples at temperature 1;
    ``questions.parquet`` holds ``solve_rate``, ``n``, ``correct`` per id. Once per run."""
    from reasonsift.evaluate.stage import EvalStageConfig
    from reasonsift.evaluate.stage import main as eval_main
    from reasonsift.utils.io import file_sha256

    temperature = 0.0 if n == 1 else 1.0
    key = {"model": model_key(pool.model), "data": file_sha256(data), "n": n, "temperature": temperature}

    def make(d: Path) -> None:
        ec = EvalStageConfig(
            model=pool.model, out_dir=str(d), data=str(data), n=n, k=sorted({1, n}), temperature=temperature,
            seed=0, quality=False, infogain=False, workers=1, overwrite=True, progress=False, batch_size=64,
        )  # fmt: skip
        eval_main(ec)

    return _cached_run(cfg, f"eval-n{n}", key, make)


def solved_greedily(cfg, pool: Pool) -> set[str]:
    """Ids of the pool the student answers correctly with greedy decoding."""
    from reasonsift.select.join import read_eval

    rows = read_eval(student_eval(cfg, pool, pool.path, 1))
    return {i for i, r in rows.items() if r["solve_rate"] is not None and r["solve_rate"] >= 1.0}


# --- selection ---------------------------------------------------------------------------------------------


def _columns(pool: Pool, run: Path, kind: str) -> dict[str, dict]:
    from reasonsift.select.join import read_eval, read_profile

    k = f"{kind}:{run}"
    if k not in pool._columns:
        pool._columns[k] = read_profile(run) if kind == "profile" else read_eval(run)
    return pool._columns[k]


def select(pool: Pool, recipe: str, seed: int, *, profile: Path | None = None, eval_run: Path | None = None,
           params: dict[str, dict] | None = None, budget: int | None = None) -> tuple[list, list[dict]]:  # fmt: skip
    """A shipped selection recipe at the pool's budget (or ``budget``), run by ``reasonsift.select`` on the pool
    joined with the student's profile / eval run: the kept examples (in pool order) and the per-stage counts.
    ``params`` overrides stage parameters by stage name (``{"difficulty": {"max_correct": 1}}``)."""
    from reasonsift.data.example import FIELDS
    from reasonsift.select import join as J
    from reasonsift.select.base import EVAL_COLUMNS, PROFILE_COLUMNS
    from reasonsift.select.pipeline import check_needs, run_stages
    from reasonsift.select.recipe import apply_budget, build_stages, load_recipe

    records = [e.to_dict() for e in pool.examples]
    available = set(FIELDS)
    if profile is not None:
        J.join(records, _columns(pool, profile, "profile"), PROFILE_COLUMNS)
        available |= set(PROFILE_COLUMNS)
    if eval_run is not None:
        J.join(records, _columns(pool, eval_run, "eval"), EVAL_COLUMNS)
        available |= set(EVAL_COLUMNS)
    specs = apply_budget(load_recipe(recipe), budget or pool.n, None)
    for s in specs:
        s.params.update((params or {}).get(s.name, {}))
    stages = build_stages(specs)
    check_needs(stages, available)
    kept, _, counts = run_stages(records, stages, seed)
    ids = {r["id"] for r in kept}
    return [e for e in pool.examples if e.id in ids], counts


def random_data(cfg, pool: Pool, n: int | None = None) -> dict[int, Path]:
    """The baseline: the ``random`` recipe at the pool's budget (or ``n``), a fresh draw per seed (the same
    files, so the same training runs, in every claim that draws the same size)."""
    return {s: write_subset(cfg, "random", s, select(pool, "random", s, budget=n)[0]) for s in cfg.seed_list}


def recipe_arm(cfg, pool: Pool, tag: str, recipe: str, **kw) -> tuple[dict[int, Path], dict[str, Any]]:
    """A recipe's subset per seed (its random choices drawn with the seed) and what its stages did."""
    data, counts = {}, None
    for s in cfg.seed_list:
        kept, c = select(pool, recipe, s, **kw)
        if not kept:
            raise ValueError(
                f"{tag}: the {recipe} recipe kept no example of the pool of {len(pool.examples)} (stages: "
                + ", ".join(f"{st['stage']} kept {st['kept']} of {st['in']}" for st in c)
                + "); a bigger pool is needed"
            )
        data[s] = write_subset(cfg, tag, s, kept)
        counts = counts or c
    return data, {"stages": counts}


def limo_band(k: int) -> tuple[int, int]:
    """LIMO keeps problems solved 1-3 times in 32 samples; with ``k`` samples: 1 to ceil(3k/32) (1 for k <= 10)."""
    return 1, max(1, math.ceil(3 * k / 32))
