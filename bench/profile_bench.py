"""Speed and peak memory of reasonsift's entropy/log-prob engine against the usual ways of computing them.

The engine: run the backbone, gather the scored positions, then ``chunked_token_stats`` (the LM head over
row chunks, entropy / log-prob / rank per chunk in fp32) -- never the ``B x L x V`` logits. It is compared on
the same model and tokens with the backbone alone (the ceiling), a per-example fp32 loop (Cherry LLM's IFD
scripts), batched fp32 logits, and TRL's ``entropy_from_logits`` + ``selective_log_softmax``.

    python bench/profile_bench.py --model builtin --device cpu --out-md docs/benchmarks.md
    python bench/profile_bench.py --model qwen2-0.5b-shape --device cpu --out-md docs/benchmarks.md
    python bench/profile_bench.py --model qwen2-1.5b-shape --device cuda --compile --out-md docs/benchmarks.md

On CPU each method runs in its own subprocess (peak RSS of one method can't hide another's); on CUDA all run
in one process with the allocator's peak reset per method. Outputs of all scoring methods must agree.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from profile_measure import Measurement, max_abs_diffs, measure, tolerance  # noqa: E402
from profile_methods import ALL_METHODS, CEILING, COMPILED, METHODS, Runner  # noqa: E402
from profile_report import SECTION, machine_info, render_table, replace_block  # noqa: E402
from profile_setup import MODELS, QWEN_VOCAB, build_model, build_workload  # noqa: E402

# Sizes per (model, device): (batch, seq_len, num_batches, repeats). CPU sizes finish in minutes on 2 cores;
# the CUDA size of the 1.5B shape is the reference workload (8 x 2048 on an H200).
DEFAULT_SIZES = {
    ("builtin", "cpu"): (32, 512, 8, 5),  # 512 = the built-in model's max_position_embeddings
    ("builtin", "cuda"): (256, 512, 8, 10),
    ("qwen2-0.5b-shape", "cpu"): (4, 256, 1, 2),
    ("qwen2-0.5b-shape", "cuda"): (8, 2048, 1, 5),
    ("qwen2-1.5b-shape", "cpu"): (2, 256, 1, 3),
    ("qwen2-1.5b-shape", "cuda"): (8, 2048, 1, 5),
}
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
SECTION_INTRO = "Throughput and peak memory of per-token entropy/log-prob scoring (`bench/profile_bench.py`)."


@dataclass
class BenchConfig:
    model: str = "builtin"
    device: str = "cpu"
    batch: int = 0  # 0 = DEFAULT_SIZES
    seq_len: int = 0
    num_batches: int = 0
    repeats: int = 0
    dtype: str = "auto"  # bfloat16 on CUDA, float32 on CPU
    attn: str = "sdpa"
    chunk_rows: int = 0  # 0 = reasonsift's default (~256 MiB of fp32 logits per chunk)
    compile: bool = False
    methods: str = ""  # comma-separated; "" = all (plus the compiled variants with --compile)
    isolate: bool = True  # CPU only: one subprocess per method
    length_sort: bool = True  # builtin data: batch examples of similar length, as reasonsift profile does
    threads: int = 0  # torch intra-op threads (0 = torch's default)
    note: str = ""

    def resolve(self) -> BenchConfig:
        if self.model not in MODELS:
            raise ValueError(f"model: unknown {self.model!r}; expected one of {', '.join(MODELS)}")
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"device: expected cpu or cuda, got {self.device!r}")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device: cuda requested but torch.cuda.is_available() is False")
        b, s, n, r = DEFAULT_SIZES[(self.model, self.device)]
        self.batch, self.seq_len = self.batch or b, self.seq_len or s
        self.num_batches, self.repeats = self.num_batches or n, self.repeats or r
        if self.dtype == "auto":
            self.dtype = "bfloat16" if self.device == "cuda" else "float32"
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype: expected auto or one of {', '.join(DTYPES)}, got {self.dtype!r}")
        for name in self.method_list():
            if name not in ALL_METHODS:
                raise ValueError(f"methods: unknown {name!r}; expected some of {', '.join(ALL_METHODS)}")
            if name in COMPILED and not self.compile:
                raise ValueError(f"methods: {name} needs --compile")
        return self

    def method_list(self) -> list[str]:
        if self.methods:
            return [m.strip() for m in self.methods.split(",") if m.strip()]
        return list(METHODS) + (list(COMPILED) if self.compile else [])


def _setup(cfg: BenchConfig):
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    dtype = DTYPES[cfg.dtype]
    loaded = build_model(cfg.model, dtype=dtype, device=cfg.device, attn=cfg.attn)
    vocab = loaded.model.get_output_embeddings().weight.shape[0]
    work = build_workload(
        cfg.model,
        vocab=vocab if cfg.model == "builtin" else QWEN_VOCAB,
        batch=cfg.batch,
        num_batches=cfg.num_batches,
        seq_len=cfg.seq_len,
        length_sort=cfg.length_sort,
    )
    batches = [b.to(cfg.device) for b in work.batches]
    runner = Runner(loaded.model, chunk_rows=cfg.chunk_rows or None, compile=cfg.compile)
    return loaded, work, batches, runner


def run_in_process(cfg: BenchConfig, methods: list[str]) -> tuple[list[Measurement], dict]:
    """Measure ``methods`` one after another in this process."""
    loaded, work, batches, runner = _setup(cfg)
    device = torch.device(cfg.device)
    results, skipped = [], []
    for name in methods:
        print(f"  {name} ...", file=sys.stderr, flush=True)
        try:
            results.append(
                measure(name, ALL_METHODS[name], runner, batches, repeats=cfg.repeats, device=device)
            )
        except torch.OutOfMemoryError:  # e.g. batched_fp32's B x L x V fp32 logits on a smaller GPU
            skipped.append(name)
            if device.type == "cuda":
                torch.cuda.empty_cache()
    info = {
        "skipped_oom": skipped,
        "model_description": loaded.description,
        "workload": work.description,
        "threads": torch.get_num_threads(),
    }
    return results, info


def _worker_main(cfg: BenchConfig, method: str, out: str) -> None:
    results, info = run_in_process(cfg, [method])
    torch.save({"measurement": asdict(results[0]) if results else None, "info": info}, out)


def run_isolated(cfg: BenchConfig, argv: list[str], methods: list[str]) -> tuple[list[Measurement], dict]:
    """Measure each method in a fresh subprocess of this script (CPU peak RSS per method)."""
    results, info, skipped = [], {}, []
    with tempfile.TemporaryDirectory(prefix="profile-bench-") as tmp:
        for name in methods:
            out = os.path.join(tmp, f"{name}.pt")
            cmd = [
                sys.executable,
                str(Path(__file__).resolve()),
                *argv,
                "--worker",
                name,
                "--worker-out",
                out,
            ]
            print(f"  {name} (subprocess) ...", file=sys.stderr, flush=True)
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"method {name} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
            saved = torch.load(out, weights_only=False)
            if saved["measurement"] is None:
                skipped.append(name)
                continue
            results.append(Measurement(**saved["measurement"]))
            info = saved["info"]
    info["skipped_oom"] = skipped
    return results, info


def _targets(cfg: BenchConfig, by: dict[str, Measurement]) -> list[str]:
    """The issue's acceptance targets that this run can check, with the measured value."""
    out = []

    def ratio(a: str, b: str, attr: str = "tokens_per_s") -> float | None:
        return getattr(by[a], attr) / getattr(by[b], attr) if a in by and b in by else None

    r = ratio("reasonsift", "per_example_fp32")
    if cfg.device == "cpu" and cfg.model == "builtin" and r is not None:
        out.append(f"reasonsift >= 3x per_example_fp32 on CPU: {r:.2f}x ({'met' if r >= 3 else 'NOT met'})")
    if cfg.device == "cuda":
        for fast, ceil in (
            ("reasonsift_compiled", "backbone_only_compiled"),
            ("reasonsift", "backbone_only"),
        ):
            r = ratio(fast, ceil)
            if r is not None:
                out.append(
                    f"{fast} >= 0.97x {ceil} throughput: {r:.3f}x ({'met' if r >= 0.97 else 'NOT met'})"
                )
            m = ratio(fast, ceil, "peak_bytes")
            if m is not None:
                out.append(
                    f"{fast} peak <= 1.15x {ceil} peak: {m:.3f}x ({'met' if m <= 1.15 else 'NOT met'})"
                )
    return out


def run(cfg: BenchConfig, argv: list[str]) -> dict:
    """Run the benchmark and return the result record (also what ``--json`` writes)."""
    cfg.resolve()
    methods = cfg.method_list()
    load_start = os.getloadavg()[0]
    if cfg.device == "cpu" and cfg.isolate:
        results, info = run_isolated(cfg, argv, methods)
    else:
        results, info = run_in_process(cfg, methods)
    by = {m.method: m for m in results}
    scoring = [m.method for m in results if m.entropy is not None]
    reference = "per_example_fp32" if "per_example_fp32" in by else (scoring[0] if scoring else None)
    diffs = max_abs_diffs(results, reference) if reference else {}
    rows = []
    for m in results:
        base = by.get("per_example_fp32")
        ceil = by.get(CEILING[m.method])
        rows.append(
            {
                "method": m.method,
                "tokens_per_s": m.tokens_per_s,
                "median_s": m.median_s,
                "times_s": m.times_s,
                "x_per_example": m.tokens_per_s / base.tokens_per_s if base else math.nan,
                "x_backbone": m.tokens_per_s / ceil.tokens_per_s if ceil else math.nan,
                "peak_bytes": m.peak_bytes,
                "max_abs_diff": diffs.get(m.method),
                "reference": m.method == reference,
            }
        )
    env = machine_info(cfg.device)
    env["loadavg_1m"] = f"{load_start:.2f} at start, {os.getloadavg()[0]:.2f} at end"
    return {
        "command": "python bench/profile_bench.py " + shlex.join(argv),
        "config": asdict(cfg),
        "env": env,
        **info,
        "n_scored": results[0].n_scored,
        "memory_kind": results[0].memory_kind
        + ("" if cfg.isolate or cfg.device == "cuda" else " (not isolated)"),
        "methods": rows,
        "reference": reference,
        "tolerance": tolerance(DTYPES[cfg.dtype]),
        "targets": _targets(cfg, by),
    }


def check_agreement(result: dict) -> None:
    """Raise if any scoring method differs from the reference by more than the dtype's tolerance."""
    tol = result["tolerance"]
    bad = [r for r in result["methods"] if r["max_abs_diff"] and max(r["max_abs_diff"]) > tol]
    if bad:
        names = ", ".join(f"{r['method']} {max(r['max_abs_diff']):.2e}" for r in bad)
        raise AssertionError(f"methods disagree with {result['reference']} beyond {tol}: {names}")


def write_md(path: Path, result: dict) -> None:
    cfg = result["config"]
    doc = path.read_text() if path.exists() else "# Benchmarks\n"
    key = f"{cfg['model']}:{cfg['device']}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(replace_block(doc, key, render_table(result), SECTION_INTRO))


def parse_args(argv: list[str]) -> tuple[BenchConfig, argparse.Namespace]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="builtin", choices=MODELS, help="model to benchmark")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="where to run")
    p.add_argument("--batch", type=int, default=0, help="sequences per batch (0 = per-model default)")
    p.add_argument(
        "--seq-len", type=int, default=0, help="tokens per sequence / truncation cap (0 = default)"
    )
    p.add_argument("--num-batches", type=int, default=0, help="batches per timed pass (0 = default)")
    p.add_argument(
        "--repeats", type=int, default=0, help="timed passes; the median is reported (0 = default)"
    )
    p.add_argument(
        "--dtype", default="auto", help="auto (bf16 on cuda, fp32 on cpu), float32, bfloat16, float16"
    )
    p.add_argument("--attn", default="sdpa", help="attention implementation (sdpa, eager, flash_attention_2)")
    p.add_argument(
        "--chunk-rows", type=int, default=0, help="rows per LM-head chunk (0 = reasonsift default)"
    )
    p.add_argument("--compile", action="store_true", help="also time torch.compile-d backbone and stats fn")
    p.add_argument("--methods", default="", help=f"comma-separated subset of: {', '.join(ALL_METHODS)}")
    p.add_argument(
        "--no-isolate",
        action="store_true",
        help="CPU: run all methods in this process (faster, "
        "but peak RSS of one method then includes memory retained by earlier ones)",
    )
    p.add_argument(
        "--no-length-sort",
        action="store_true",
        help="builtin data: batch in generation "
        "order (mixed lengths, ~half padding) instead of longest-first like reasonsift profile",
    )
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0 = torch's default)")
    p.add_argument("--note", default="", help="free-text note recorded above the table (e.g. machine busy)")
    p.add_argument("--out-md", type=Path, help="write/replace this config's table in this Markdown file")
    p.add_argument("--json", type=Path, help="write the full result record as JSON here")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--worker-out", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    cfg = BenchConfig(
        model=a.model, device=a.device, batch=a.batch, seq_len=a.seq_len, num_batches=a.num_batches,
        repeats=a.repeats, dtype=a.dtype, attn=a.attn, chunk_rows=a.chunk_rows, compile=a.compile,
        methods=a.methods, isolate=not a.no_isolate, threads=a.threads, note=a.note, length_sort=not a.no_length_sort,
    )  # fmt: skip
    return cfg, a


def main(argv: list[str] | None = None) -> dict | None:
    argv = list(sys.argv[1:] if argv is None else argv)
    cfg, a = parse_args(argv)
    if a.worker:
        _worker_main(cfg.resolve(), a.worker, a.worker_out)
        return None
    result = run(cfg, argv)
    print(render_table(result))
    if a.json:
        a.json.write_text(json.dumps(result, indent=2, default=str))
    check_agreement(result)  # before --out-md: numbers of a method that computes the wrong thing are not kept
    if a.out_md:
        write_md(a.out_md, result)
        print(f"wrote {a.out_md} ({SECTION}, {cfg.model}:{cfg.device})", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
