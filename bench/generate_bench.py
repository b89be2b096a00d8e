"""Generation throughput: the HF backend (batched, left padding, KV cache) against a per-example
``model.generate`` loop on the built-in model, same prompts, same process, greedy outputs checked equal.

Workload (issue 8): the built-in ``tiny-arith`` model, arith test questions rendered with its chat template
and the generation prompt (as ``reasonsift.evaluate`` renders them), greedy, fp32 on the CPU. Target: the
backend >= 4x the loop's samples/s on 2 CPU cores. A sampled run (n samples per prompt, temperature 1) is
timed too, for the record.

    python bench/generate_bench.py --out-md docs/benchmarks.md      # 64 prompts, batch 32 (~2-4 min)
    python bench/generate_bench.py --prompts 4 --batch-size 2 --max-new-tokens 8 --repeats 1   # smoke
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch
from mdsection import write_section  # bench/ is the script's directory (sys.path[0])

MARK_BEGIN, MARK_END = "<!-- generate_bench:begin -->", "<!-- generate_bench:end -->"
TINY = Path(__file__).resolve().parents[1] / "src" / "reasonsift" / "assets" / "models" / "tiny-arith"


def prompts_for(tok, n: int, seed: int) -> list[str]:
    from reasonsift.data.render import prompt_text
    from reasonsift.models.template import render
    from reasonsift.tasks import get_task

    exs = get_task("arith").generate(n, seed=seed, split="test")
    return [
        render(tok, [{"role": "user", "content": prompt_text(e)}], add_generation_prompt=True) for e in exs
    ]


@torch.inference_mode()
def loop_generate(model, tok, prompts: list[str], max_new_tokens: int) -> list[str]:
    """The baseline: ``model.generate`` one unpadded prompt at a time."""
    out = []
    for p in prompts:
        ids = tok(p, add_special_tokens=False, return_tensors="pt").input_ids
        g = model.generate(ids, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tok.pad_token_id)
        out.append(tok.decode(g[0, ids.shape[1] :], skip_special_tokens=True))
    return out


def run(args) -> dict:
    import transformers

    from reasonsift.evaluate.backends import SamplingParams
    from reasonsift.evaluate.backends.hf import HFBackend
    from reasonsift.models import load

    torch.set_num_threads(args.threads)
    model, tok = load(str(TINY))
    prompts = prompts_for(tok, args.prompts, args.seed)
    backend = HFBackend(model, tok, batch_size=args.batch_size)
    greedy = SamplingParams(max_new_tokens=args.max_new_tokens)
    loop_generate(model, tok, prompts[:1], 4)  # warm-up
    backend.generate(prompts[:2], SamplingParams(max_new_tokens=4))

    # Alternated rounds, best of each: on a machine shared with other jobs a burst of load then hits both
    # methods alike instead of whichever happened to run during it.
    loop_times, backend_times = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        ref = loop_generate(model, tok, prompts, args.max_new_tokens)
        loop_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        got = backend.generate(prompts, greedy)
        backend_times.append(time.perf_counter() - t0)
    loop_s, backend_s = min(loop_times), min(backend_times)
    mismatches = sum(g[0].text != r for g, r in zip(got, ref, strict=True))
    tokens = sum(g[0].n_tokens for g in got)

    sampled = SamplingParams(n=args.n, temperature=1.0, max_new_tokens=args.max_new_tokens, seed=args.seed)
    t0 = time.perf_counter()
    samp = backend.generate(prompts, sampled)
    sampled_s = time.perf_counter() - t0
    return {
        "prompts": len(prompts),
        "batch_size": args.batch_size,
        "max_new_tokens": args.max_new_tokens,
        "threads": args.threads,
        "loop_s": loop_s,
        "backend_s": backend_s,
        "loop_samples_per_s": len(prompts) / loop_s,
        "backend_samples_per_s": len(prompts) / backend_s,
        "backend_tokens_per_s": tokens / backend_s,
        "speedup": loop_s / backend_s,
        "repeats": args.repeats,
        "loop_times": loop_times,
        "backend_times": backend_times,
        "greedy_mismatches": mismatches,
        "n": args.n,
        "sampled_samples_per_s": len(prompts) * args.n / sampled_s,
        "sampled_tokens_per_s": sum(s.n_tokens for g in samp for s in g) / sampled_s,
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }


def table(r: dict) -> str:
    return "\n".join(
        [
            MARK_BEGIN,
            f"Machine: {r['machine']}, {r['cores']} cores ({r['threads']} threads), Python {r['python']}, torch "
            f"{r['torch']}, transformers {r['transformers']}. Model: built-in `tiny-arith` (Llama, 4 layers, hidden "
            f"128, fp32); {r['prompts']} arith test prompts (chat template + generation prompt), greedy, "
            f"max {r['max_new_tokens']} new tokens. Best of {r['repeats']} alternated rounds (the machine is shared "
            "with other jobs).",
            "",
            "| method | seconds | samples/s | x loop |",
            "|---|---|---|---|",
            f"| per-example `model.generate` loop | {r['loop_s']:.1f} | {r['loop_samples_per_s']:.2f} | 1.00 |",
            f"| HF backend, batch {r['batch_size']} (left padding, KV cache) | {r['backend_s']:.1f} | "
            f"{r['backend_samples_per_s']:.2f} | **{r['speedup']:.1f}** |",
            "",
            f"Greedy outputs equal to the loop's on {r['prompts'] - r['greedy_mismatches']} of {r['prompts']} "
            f"prompts; backend {r['backend_tokens_per_s']:.0f} tokens/s. Sampled (n={r['n']}, temperature 1.0, "
            f"same batch size): {r['sampled_samples_per_s']:.2f} samples/s, {r['sampled_tokens_per_s']:.0f} "
            "tokens/s. Target: >= 4x the loop on 2 CPU cores. Rounds (loop / backend, seconds): "
            + ", ".join(
                f"{a:.1f} / {b:.2f}" for a, b in zip(r["loop_times"], r["backend_times"], strict=True)
            )
            + ".",
            MARK_END,
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--n", type=int, default=4, help="samples per prompt in the sampled run")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--repeats", type=int, default=3, help="alternated timing rounds; the best of each is kept"
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out-md", default=None, help="replace the generate_bench section of this Markdown file")
    args = ap.parse_args()
    r = run(args)
    print(json.dumps(r))
    md = table(r)
    print(md)
    if args.out_md:
        write_section(
            args.out_md,
            md,
            MARK_BEGIN,
            MARK_END,
            "## Generation: HF backend vs a per-example generate loop\n\nScript: `bench/generate_bench.py`.",
        )


if __name__ == "__main__":
    main()
