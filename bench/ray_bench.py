"""``reasonsift profile --engine ray`` (local Ray, 2 workers) vs the single-process run on the same data.

Three measurements in one process, one after another on the same machine:

1. the whole profile run, in-process (the baseline) and on Ray with 2 actors of 1 CPU each (the Ray instance
   is started before the clock, as a cluster would be; the actors' start-up, one model load each, is inside
   the Ray time, as it is for a user); the two run directories must hold the same rows (checked);
2. the engine's overhead per shard: a no-op worker through the same ``run_shards`` path with 2 and with N
   shards; (wall(N) - wall(2)) / (N - 2) is what Ray Data adds per shard (scheduling, pickling, the
   object store, the driver's write callback), start-up excluded;
3. the actors' start-up: wall(2 no-op shards) - 2 x the per-shard overhead.

    python bench/ray_bench.py --out-md docs/benchmarks.md       # 512 arith examples, shards of 32
    python bench/ray_bench.py --n 128 --shard-size 16            # a quick look
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

MARK_BEGIN, MARK_END = "<!-- ray_bench:begin -->", "<!-- ray_bench:end -->"


class NoOp:
    """A worker that loads nothing and returns its payload: what is left is the engine's own cost."""

    def __call__(self, shard, payload):
        return payload


def profile_runs(root: Path, n: int, shard_size: int, workers: int) -> dict:
    import pandas as pd

    from reasonsift.data.io import write_examples
    from reasonsift.models.builtin import ensure_builtin_model
    from reasonsift.profile import run_profile
    from reasonsift.profile.config import ProfileConfig
    from reasonsift.scale.ray_engine import init_ray
    from reasonsift.tasks import get_task

    data = root / "pool.jsonl"
    write_examples(get_task("arith").generate(n, seed=0, split="train"), data)
    model = str(ensure_builtin_model("tiny-arith", progress=False))
    kw = {"data": str(data), "model": model, "shard_size": shard_size, "progress": False}
    out = {}
    t = time.perf_counter()
    local = run_profile(ProfileConfig(out_dir=str(root / "local"), **kw))
    out["local_s"] = time.perf_counter() - t
    cfg = ProfileConfig(out_dir=str(root / "ray"), engine="ray", ray_workers=workers, **kw)
    init_ray(cfg)
    t = time.perf_counter()
    ray_run = run_profile(cfg)
    out["ray_s"] = time.perf_counter() - t
    a, b = (pd.read_parquet(r.out_dir / "examples") for r in (local, ray_run))
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-5, atol=1e-6)
    out["rows"] = len(a)
    out["shards"] = (n + shard_size - 1) // shard_size
    return out


def overhead(n_shards: int, workers: int) -> dict:
    from reasonsift.scale import ScaleOptions
    from reasonsift.scale.ray_engine import run_shards

    opts = ScaleOptions(engine="ray", ray_workers=workers)
    payload = list(range(1000))  # about an arith shard's examples, pickled

    def wall(n: int) -> float:
        got = []
        t = time.perf_counter()
        run_shards([(i, payload) for i in range(n)], NoOp, {}, lambda i, r: got.append(i), opts)
        assert sorted(got) == list(range(n))
        return time.perf_counter() - t

    wall(2)  # warm-up: worker processes, imports
    w2, wn = wall(2), wall(n_shards)
    per_shard = (wn - w2) / (n_shards - 2)
    return {"per_shard_s": per_shard, "startup_s": w2 - 2 * per_shard, "n_shards": n_shards}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=512, help="arith examples to profile")
    ap.add_argument("--shard-size", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--overhead-shards", type=int, default=64)
    ap.add_argument("--out-md", help="write the section into this Markdown file (docs/benchmarks.md)")
    ap.add_argument("--json", help="also write the numbers as JSON")
    args = ap.parse_args()

    import ray
    import torch
    import transformers

    with tempfile.TemporaryDirectory() as tmp:
        res = profile_runs(Path(tmp), args.n, args.shard_size, args.workers)
    res |= {"overhead": overhead(args.overhead_shards, args.workers)}
    res["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, torch "
        f"{torch.__version__}, transformers {transformers.__version__}, ray {ray.__version__}"
    )
    ray.shutdown()
    o = res["overhead"]
    md = "\n".join(
        [
            MARK_BEGIN,
            f"`python bench/ray_bench.py --n {args.n} --shard-size {args.shard_size} --out-md docs/benchmarks.md`"
            f" — {res['machine']}. Built-in `tiny-arith` model, {res['rows']} arith examples in {res['shards']} "
            f"shards, `reasonsift profile` defaults (entropy, IFD, information gain, top-5). Ray: a local "
            f"instance started before the clock, {args.workers} actors of 1 CPU (1 torch thread each); the "
            "single process uses both cores (2 torch threads). Same rows and numbers in both run directories "
            "(checked, up to float rounding).",
            "",
            "| engine | wall | x single process |",
            "|---|---|---|",
            f"| single process | {res['local_s']:.1f} s | 1.00 |",
            f"| Ray local, {args.workers} workers | {res['ray_s']:.1f} s | {res['local_s'] / res['ray_s']:.2f} |",
            "",
            f"Engine overhead (a no-op worker, same path): **{o['per_shard_s'] * 1000:.0f} ms per shard** "
            f"((wall of {o['n_shards']} shards - wall of 2) / {o['n_shards'] - 2}), actor pool start-up "
            f"{o['startup_s']:.1f} s per run (no model). On 2 cores Ray has no spare core to win with: its "
            "actors take the cores the single process would thread over, and each loads its own model.",
            MARK_END,
        ]
    )
    print(md)
    if args.out_md:
        write_section(args.out_md, md, MARK_BEGIN, MARK_END, "## Scale-out: Ray Data engine (`--engine ray`)")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
