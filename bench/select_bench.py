"""``reasonsift select`` on a 10k-example pool: the s1 and IFD recipes, given its profile and eval runs.

The pool is built-in task items (arith, logic, maze: three domains for s1's diversity stage); the profile
and eval runs are synthetic but have the files and columns of real ones (docs/profile-schema.md: examples/
part-*.parquet with per-token ``entropy`` and ``segment``, forking.parquet; docs/evaluate.md:
questions.parquet), so the timing covers reading and joining them, every stage of the recipe, the outputs
and the data card. Whole ``main(cfg)`` calls, one process, wall time.

    python bench/select_bench.py --out-md docs/benchmarks.md      # 10k examples, recipes s1 and ifd
    python bench/select_bench.py --n 2000                          # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from mdsection import write_section  # bench/ is the script's directory (sys.path[0])

MARK_BEGIN, MARK_END = "<!-- select_bench:begin -->", "<!-- select_bench:end -->"
TASKS = ("arith", "logic", "maze")
TOKENS = 1024  # scored tokens per synthetic profile row (7/8 trace): what the join reads per example


def build_pool(root: Path, n: int) -> Path:
    from reasonsift.data.io import write_examples
    from reasonsift.tasks import get_task

    exs = []
    for i, name in enumerate(TASKS):
        exs += get_task(name).generate(n // len(TASKS) + (i < n % len(TASKS)), seed=0)
    path = root / "pool.parquet"
    write_examples(exs, path)
    return path


def fake_runs(root: Path, ids: list[str], tokens: int = TOKENS, seed: int = 0) -> tuple[Path, Path]:
    """A profile run and an eval run over ``ids`` with plausible values (IFD around 0.8, some >= 1)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from reasonsift.profile import schema as S

    rng = np.random.default_rng(seed)
    n = len(ids)
    prof, ev = root / "profile", root / "eval"
    (prof / "examples").mkdir(parents=True)
    ev.mkdir()
    n_trace, n_answer = tokens * 7 // 8, tokens // 16
    parts = (
        np.full(n_trace, S.TRACE),
        np.full(n_answer, S.ANSWER),
        np.full(tokens - n_trace - n_answer, S.OTHER),
    )
    seg = np.concatenate(parts).astype(np.int8)
    ent = rng.gamma(0.3, 1.0, size=(n, tokens)).astype(np.float32)
    f32 = lambda x: pa.array(x.astype(np.float32))  # noqa: E731
    cols = {
        S.ID: pa.array(ids),
        S.ENTROPY: pa.array(list(ent), type=pa.list_(pa.float32())),
        S.SEGMENT: pa.array([seg] * n, type=pa.list_(pa.int8())),
        S.N_TOKENS: pa.array(np.full(n, tokens, dtype=np.int32)),
        S.H_MEAN: f32(ent.mean(1)),
        S.FRAC_H_LOW: f32((ent < 0.01).mean(1)),
        S.TOP20_MASS: f32(np.sort(ent, 1)[:, -tokens // 5 :].sum(1) / ent.sum(1)),
        S.S_A_GIVEN_Q: f32(rng.uniform(0.2, 2.0, n)),
        S.S_A: f32(rng.uniform(0.5, 2.5, n)),
        S.IFD: f32(rng.lognormal(-0.25, 0.3, n)),
        S.R_IFD: f32(rng.lognormal(-0.1, 0.2, n)),
        S.IG_TOTAL: f32(rng.normal(1.0, 0.5, n)),
        S.INFO_GAIN: f32(rng.normal(0.1, 0.05, n)),
        S.POSTHOC: pa.array(rng.random(n) < 0.1),
    }
    pq.write_table(pa.table(cols), prof / "examples" / "part-00000.parquet")
    tau = np.quantile(ent, 0.8)
    forking_trace = (ent[:, seg == S.TRACE] >= tau).sum(1).astype(np.int32)
    pq.write_table(
        pa.table({S.ID: pa.array(ids), "forking_trace": pa.array(forking_trace)}), prof / "forking.parquet"
    )
    k = 4
    correct = rng.binomial(k, rng.beta(1.0, 1.0, n)).astype(np.int32)
    q = {"id": ids, "n": np.full(n, k, dtype=np.int32), "correct": correct, "solve_rate": correct / k}
    pq.write_table(pa.table(q), ev / "questions.parquet")
    for d, stage in ((prof, "profile"), (ev, "eval")):
        (d / "manifest.json").write_text(json.dumps({"stage": stage, "synthetic": True}))
    return prof, ev


def run(n: int, budget: int, recipes: list[str], tokens: int = TOKENS) -> dict:
    from reasonsift.data.io import read_examples
    from reasonsift.select.pipeline import SelectConfig, main

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        pool = build_pool(root, n)
        ids = [e.id for e in read_examples(pool).examples]
        prof, ev = fake_runs(root, ids, tokens)
        setup = time.perf_counter() - t0
        out = {"n": len(ids), "budget": budget, "tokens": tokens, "setup_s": setup, "recipes": {}}
        for recipe in recipes:
            cfg = SelectConfig(data=str(pool), profile=str(prof), eval=str(ev), recipe=recipe, budget=budget,
                               out_dir=str(root / recipe))  # fmt: skip
            t = time.perf_counter()
            res = main(cfg)
            wall = time.perf_counter() - t
            assert res.n_read == res.n_kept + res.n_dropped == len(ids)
            out["recipes"][recipe] = {
                "wall_s": wall,
                "kept": res.n_kept,
                "stages": res.stages,
                "phases": res.seconds,
            }
            print(f"{recipe}: {wall:.1f} s, kept {res.n_kept} of {res.n_read}", flush=True)
    return out


def markdown(r: dict) -> str:
    lines = [
        MARK_BEGIN,
        f"`python bench/select_bench.py --out-md docs/benchmarks.md` — {r['n']:,} examples (arith, logic, maze "
        f"items; synthetic profile and eval runs with real files and columns, {r['tokens']} scored tokens per "
        f"example in the profile), `--budget {r['budget']}`, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs visible, one process. Wall time of "
        "`select.pipeline.main` and its phases (read the pool; read and join the runs; run the stages; write the "
        "Parquet outputs; the data card with its plot). The machine's 2 cores are shared with other jobs.",
        "",
        "| recipe | wall | read | join | stages | write | card | kept | stages (in -> kept) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, x in r["recipes"].items():
        stages = ", ".join(f"{s['stage']} {s['in']}->{s['kept']}" for s in x["stages"])
        ph = " | ".join(f"{x['phases'].get(k, 0):.1f} s" for k in ("read", "join", "stages", "write", "card"))
        lines.append(f"| {name} | {x['wall_s']:.1f} s | {ph} | {x['kept']} | {stages} |")
    lines.append(MARK_END)
    return "\n".join(lines)


def cli() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--budget", type=int, default=1000)
    ap.add_argument("--recipes", default="s1,ifd")
    ap.add_argument("--tokens", type=int, default=TOKENS, help="scored tokens per example in the profile run")
    ap.add_argument("--out-md", type=Path, default=None)
    a = ap.parse_args()
    r = run(a.n, a.budget, a.recipes.split(","), a.tokens)
    print(
        json.dumps(
            {k: v for k, v in r.items() if k != "recipes"} | {k: v["wall_s"] for k, v in r["recipes"].items()}
        )
    )
    md = markdown(r)
    print(md)
    if a.out_md:
        write_section(a.out_md, md, MARK_BEGIN, MARK_END, "## Selection (`reasonsift select`)")


if __name__ == "__main__":
    cli()
