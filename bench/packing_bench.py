"""Heavy-tailed trace lengths against fixed lengths: padded batches vs ``--packing``, through the profile engine.

The issue's target: heavy-tailed lengths keep >= 0.9x the fixed-length throughput. Two workloads of random
tokens with the same number of sequences and (to rounding) the same total tokens:

- ``fixed``: every sequence the mean length of the heavy-tailed one;
- ``tail``: log-normal lengths (median ``--median``, sigma ``--sigma``), clipped to ``[32, --max-len]``.

Each is scored with :meth:`reasonsift.profile.scoring.Scorer.score` as ``reasonsift profile`` scores it (top-5,
entropy, log-prob, rank; the prompt is the first tenth of each sequence): padded (length-sorted rows, a
sequence each), one sequence a pass (no padding at all: what the lengths themselves cost, attention growing
with length) and packed at several row lengths. Throughput = real tokens through the backbone / wall.
Packed scores are checked against padded ones (max abs difference of entropy and log-prob).

    python bench/packing_bench.py --out-md docs/benchmarks.md                      # CPU, small Qwen2 shape
    python bench/packing_bench.py --model qwen2-1.5b-shape --device cuda --attn sdpa --n 512 --median 2000 \\
        --max-len 30000 --max-tokens 32768 --pack-lengths 4096 --out-md docs/benchmarks.md  # GPU (never run)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mdsection import write_section  # noqa: E402
from profile_setup import MODELS, build_model  # noqa: E402

MARK_BEGIN, MARK_END = "<!-- packing_bench:begin -->", "<!-- packing_bench:end -->"
# A CPU-sized Qwen2 (about 30M parameters): big enough that the linear layers, not Python, set the pace.
SMALL = dict(
    vocab_size=32000,
    hidden_size=512,
    num_hidden_layers=6,
    num_attention_heads=8,
    num_key_value_heads=2,
    intermediate_size=1536,
    max_position_embeddings=32768,
    tie_word_embeddings=True,
)


def small_model(attn: str, dtype: torch.dtype, device: str):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(**SMALL, attn_implementation=attn)).to(dtype=dtype, device=device)
    return model.eval()


def lengths(kind: str, n: int, median: int, sigma: float, max_len: int, seed: int) -> list[int]:
    tail = np.clip(np.random.default_rng(seed).lognormal(np.log(median), sigma, n), 32, max_len).astype(int)
    if kind == "tail":
        return tail.tolist()
    return [int(round(tail.mean()))] * n


def requests(lens: list[int], vocab: int, seed: int):
    from reasonsift.profile.scoring import Request

    g = torch.Generator().manual_seed(seed)
    return [Request(torch.randint(3, vocab, (n,), generator=g).tolist(), max(1, n // 10)) for n in lens]


def timed(fn, repeats: int) -> tuple[float, object]:
    walls, out = [], None
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        t = time.perf_counter()
        out = fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        walls.append(time.perf_counter() - t)
    return statistics.median(walls), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="small", choices=("small", *MODELS[1:]))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="auto", help="auto: bfloat16 on CUDA, float32 on CPU")
    ap.add_argument(
        "--attn", default="sdpa", help="attention implementation (sdpa, eager, flash_attention_2)"
    )
    ap.add_argument("--n", type=int, default=64, help="sequences per workload")
    ap.add_argument("--median", type=int, default=300)
    ap.add_argument("--sigma", type=float, default=1.0)
    ap.add_argument("--max-len", type=int, default=4096)
    ap.add_argument(
        "--pack-lengths", default="1024,2048,8192,16384", help="row lengths to try (plus the default)"
    )
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=16384)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out-md", default=None)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()

    from reasonsift.profile.scoring import Scorer, pack_capacity

    auto = torch.bfloat16 if a.device == "cuda" else torch.float32
    dtype = auto if a.dtype == "auto" else getattr(torch, a.dtype)
    if a.model == "small":
        model = small_model(a.attn, dtype, a.device)
        label = f"random-init Qwen2, d {SMALL['hidden_size']}, {SMALL['num_hidden_layers']} layers, vocab 32k"
    else:
        model = build_model(a.model, dtype=dtype, device=a.device, attn=a.attn).model
        label = f"random-init {a.model}"
    vocab = model.config.vocab_size
    kw = dict(top_k=5, batch_size=a.batch_size, max_tokens_per_batch=a.max_tokens)
    padded = Scorer(model, 0)
    default_len = pack_capacity(a.max_tokens)
    packs = sorted({*(int(x) for x in a.pack_lengths.split(",") if x), default_len})
    packed = {p: Scorer(model, 0, packing=True, pack_length=p) for p in packs}
    padded.score(requests([64] * 4, vocab, 1), **kw)  # warm-up
    for s in packed.values():
        s.score(requests([64] * 4, vocab, 1), **kw)

    rows = []
    for kind in ("fixed", "tail"):
        lens = lengths(kind, a.n, a.median, a.sigma, a.max_len, a.seed)
        reqs = requests(lens, vocab, a.seed)
        wall, ref = timed(lambda r=reqs: padded.score(r, **kw), a.repeats)
        rows.append(dict(workload=kind, batching="padded", pack_length=None, wall=wall, run=ref, diff=None))
        # one sequence a pass, no padding at all: what the lengths themselves cost (attention grows with length)
        if kind == "tail":
            wall, run = timed(lambda r=reqs: padded.score(r, **{**kw, "batch_size": 1}), a.repeats)
            rows.append(
                dict(workload=kind, batching="one a pass", pack_length=None, wall=wall, run=run, diff=None)
            )
        for p, s in packed.items():
            if kind == "fixed" and p != default_len:
                continue
            wall, run = timed(lambda r=reqs, s=s: s.score(r, **kw), a.repeats)
            d = max(
                max(float(np.abs(x.entropy - y.entropy).max()), float(np.abs(x.logprob - y.logprob).max()))
                for x, y in zip(ref.scores, run.scores, strict=True)
            )
            rows.append(dict(workload=kind, batching="packed", pack_length=p, wall=wall, run=run, diff=d))
        print(kind, "lengths: n", len(lens), "total", sum(lens), "mean", int(np.mean(lens)), "max", max(lens))

    base = next(r for r in rows if r["workload"] == "fixed" and r["batching"] == "padded")
    base_tps = base["run"].tokens / base["wall"]
    out = []
    for r in rows:
        run = r["run"]
        tps = run.tokens / r["wall"]
        out.append(
            dict(
                workload=r["workload"],
                batching=r["batching"],
                pack_length=r["pack_length"],
                default=r["pack_length"] == default_len,
                tokens=run.tokens,
                wall_s=round(r["wall"], 2),
                tokens_per_s=round(tps, 1),
                x_fixed=round(tps / base_tps, 3),
                passes=len(run.batches),
                padding_waste=round(1 - run.tokens / run.padded_tokens, 3),
                max_abs_diff=r["diff"],
            )
        )
        print(json.dumps(out[-1]))
    tail = [r for r in rows if r["workload"] == "tail"]
    info = dict(
        model=label,
        device=a.device,
        dtype=str(dtype).removeprefix("torch."),
        attn=a.attn,
        threads=torch.get_num_threads(),
        n=a.n,
        median=a.median,
        sigma=a.sigma,
        max_len=a.max_len,
        tail_total=tail[0]["run"].tokens,
        tail_max=max(lens),  # the loop ends on the tail workload
        default_pack_length=default_len,
        cmd="python bench/packing_bench.py " + " ".join(sys.argv[1:]),
    )
    if a.json:
        Path(a.json).write_text(json.dumps({"info": info, "rows": out}, indent=1))
    if a.out_md:
        write_section(a.out_md, render(info, out), MARK_BEGIN, MARK_END, "## Packing: heavy-tailed lengths")


def render(info: dict, rows: list[dict]) -> str:
    import transformers

    lines = [
        MARK_BEGIN,
        f"`{info['cmd']}` — {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"torch {torch.__version__}, transformers {transformers.__version__}; {time.strftime('%Y-%m-%d')}. "
        f"Model: {info['model']}; {info['device']}, {info['dtype']}, attention `{info['attn']}`, "
        f"{info['threads']} torch threads. Workloads of {info['n']} random-token sequences through "
        "`Scorer.score` (top-5, entropy, log-prob, rank): `tail` = log-normal lengths (median "
        f"{info['median']}, sigma {info['sigma']}, clipped to [32, {info['max_len']}]: {info['tail_total']} "
        f"tokens, longest {info['tail_max']}); `fixed` = every sequence the tail's mean length. Default row "
        f"length here: {info['default_pack_length']}.",
        "",
        "| workload | batching | row length | tokens/s | x fixed padded | passes | padding waste | max abs diff vs padded |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        pl = (
            "—"
            if r["pack_length"] is None
            else f"{r['pack_length']}" + (" (default)" if r["default"] else "")
        )
        diff = "—" if r["max_abs_diff"] is None else f"{r['max_abs_diff']:.1e}"
        lines.append(
            f"| {r['workload']} | {r['batching']} | {pl} | {r['tokens_per_s']:.0f} | {r['x_fixed']:.2f} | "
            f"{r['passes']} | {r['padding_waste']:.2f} | {diff} |"
        )
    lines.append(MARK_END)
    return "\n".join(lines)


if __name__ == "__main__":
    main()
