"""Information gain on long traces: KV-cached prefixes vs separate passes, and the whole default profile.

Workload (issue 7): a random-init Qwen2 model with hidden size 64 and a 151,936-token LM head (Qwen2.5's
vocabulary size), a byte-level BPE tokenizer trained here, and traces of >= 4k tokens with >= 100 steps each.
Two subprocesses (peak RSS = that process's ``ru_maxrss``), on the same model and the same examples:

- ``components``: the main pass, information gain through the KV cache, and information gain by separate
  passes (the reference method, on fewer traces), timed apart in one process (the difference of two whole
  runs would drown the cached information gain in run-to-run noise);
- ``default``: the whole default profile (IFD, r-IFD, information gain, top-5) of all traces.

    python bench/ig_bench.py --out-md docs/benchmarks.md          # 8 traces x 160 steps (~4.4k tokens)
    python bench/ig_bench.py --traces 1 --ratio-traces 1 --steps 120   # a quick look (~1 min)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mdsection import write_section  # bench/ is the script's directory (sys.path[0])

VOCAB = 151936
MARK_BEGIN, MARK_END = "<!-- ig_bench:begin -->", "<!-- ig_bench:end -->"
WORDS = [
    "first",
    "then",
    "so",
    "we",
    "add",
    "take",
    "half",
    "of",
    "the",
    "sum",
    "is",
    "and",
    "carry",
    "check",
    "again",
    "because",
]


def build(work: Path, seed: int = 0) -> Path:
    """Save the model + tokenizer to ``work/model`` (once) and return its path."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    d = work / "model"
    if (d / "config.json").exists():
        return d
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = [
        " ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(12)) + f" {i} + {i * 3} = {i * 4}"
        for i in range(400)
    ]
    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]
    tok.train_from_iterator(
        corpus,
        trainers.BpeTrainer(
            vocab_size=1000,
            special_tokens=special,
            show_progress=False,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", model_max_length=32768
    )
    fast.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    torch.manual_seed(seed)
    cfg = Qwen2Config(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=32768, tie_word_embeddings=True,
        pad_token_id=fast.pad_token_id, eos_token_id=fast.eos_token_id,
    )  # fmt: skip
    model = Qwen2ForCausalLM(cfg)
    with torch.no_grad():
        model.get_output_embeddings().weight.mul_(50.0)  # peaked distributions, as a trained model's
    model.save_pretrained(d)
    fast.save_pretrained(d)
    return d


def examples(n: int, steps: int):
    from reasonsift.data.example import Example

    out = []
    for k in range(n):
        lines = [
            f"step {i}: "
            + " ".join(WORDS[(i * 5 + j + k) % len(WORDS)] for j in range(8))
            + f" {i} + {k} = {i + k}"
            for i in range(1, steps + 1)
        ]
        out.append(
            Example(
                id=f"t{k}",
                question=f"Add {k} to every number from 1 to {steps}.",
                answer=f"{steps + k}",
                trace="\n".join(lines),
            )
        )
    return out


def default_profile(args) -> None:
    """The whole default profile of ``args.n`` traces in this process; prints one JSON line."""
    import torch

    from reasonsift.models import load
    from reasonsift.profile import ProfileConfig, run_profile

    torch.set_num_threads(args.threads)
    model, tok = load(str(args.model_dir), device="cpu", dtype="float32")
    exs = examples(args.n, args.steps)
    n_tok = [len(tok(e.trace)["input_ids"]) for e in exs]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = ProfileConfig(out_dir=tmp, model="bench", max_length=32768)
        t0 = time.perf_counter()
        res = run_profile(cfg, (model, tok), examples=exs)
        wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    print(
        json.dumps(
            {
                "config": args.child,
                "traces": args.n,
                "steps": args.steps,
                "trace_tokens_min": min(n_tok),
                "trace_tokens_mean": sum(n_tok) / len(n_tok),
                "wall_s": wall,
                "peak_rss_gib": rss,
                "ig_method": res.stats.get("ig_method"),
                "info_gain_median": res.stats.get("info_gain", {}).get("median"),
            }
        )
    )


def components(args) -> None:
    """Main pass vs information gain, timed apart in one process on the same traces (prints one JSON line):
    the student's main pass (entropy, log-prob, rank, top-5 of every completion token), information gain
    through the KV cache (render every prefix + cached_nlls), and the reference separate passes."""
    import torch

    from reasonsift.models import load
    from reasonsift.profile import ProfileConfig, shard
    from reasonsift.profile.prefix import Target, cached_nlls, separate_nlls
    from reasonsift.profile.render import ANSWER, Renderer
    from reasonsift.profile.scoring import Request, Scorer

    torch.set_num_threads(args.threads)
    model, tok = load(str(args.model_dir), device="cpu", dtype="float32")
    exs = examples(args.n, args.steps)
    rd, sc, cfg = Renderer(tok), Scorer(model, tok.pad_token_id), ProfileConfig()

    def targets(ex):
        out = []
        for pre in shard.ig_prefixes(ex, cfg)[0]:
            p = rd.prefix(ex, pre)
            pos = [t for t in range(p.score_start, len(p)) if p.segment[t] == ANSWER]
            out.append(Target(p.input_ids, torch.tensor(pos).numpy()))
        return out

    reqs = [Request((r := rd.example(e)).input_ids, r.score_start) for e in exs]
    t0 = time.perf_counter()
    sc.score(reqs, top_k=5, batch_size=16, max_tokens_per_batch=16384)
    t_main = time.perf_counter() - t0
    t0 = time.perf_counter()
    cached = [cached_nlls(sc, targets(e)) for e in exs]
    t_cache = time.perf_counter() - t0
    n_sep = min(args.separate, len(exs))
    t0 = time.perf_counter()
    sep = [separate_nlls(sc, targets(e), batch_size=16, max_tokens=16384) for e in exs[:n_sep]]
    t_sep = time.perf_counter() - t0
    diff = max(abs(a - b) for c, s_ in zip(cached, sep, strict=False) for a, b in zip(c, s_, strict=True))
    print(
        json.dumps(
            {
                "config": "components",
                "traces": args.n,
                "steps": args.steps,
                "main_s_per_trace": t_main / args.n,
                "ig_cache_s_per_trace": t_cache / args.n,
                "ig_separate_s_per_trace": t_sep / max(1, n_sep),
                "separate_traces": n_sep,
                "max_abs_nll_diff": diff,
                "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            }
        )
    )


def run(config: str, n: int, args) -> dict:
    cmd = [sys.executable, __file__, "--child", config, "--n", str(n), "--steps", str(args.steps)]
    cmd += ["--model-dir", str(args.model_dir), "--threads", str(args.threads)]
    cmd += ["--separate", str(args.separate_traces)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    res = json.loads(out.strip().splitlines()[-1])
    print(json.dumps(res), flush=True)
    return res


def table(results: list[dict], args) -> str:
    import torch
    import transformers

    comp, d = results
    main, ig, sep = comp["main_s_per_trace"], comp["ig_cache_s_per_trace"], comp["ig_separate_s_per_trace"]
    return "\n".join(
        [
            MARK_BEGIN,
            f"Machine: {platform.machine()}, {os.cpu_count()} cores ({args.threads} threads), Python "
            f"{platform.python_version()}, torch {torch.__version__}, transformers {transformers.__version__}. "
            f"Model: random-init Qwen2, hidden 64, 2 layers, vocabulary {VOCAB:,}, fp32; byte-level BPE traces of "
            f"{d['steps']} steps, {d['trace_tokens_mean']:.0f} tokens each (every step scored, no grouping).",
            "",
            "| per trace | seconds | x main pass |",
            "|---|---|---|",
            f"| main pass (entropy, log-prob, rank, top-5 of every completion token) | {main:.2f} | 1.00 |",
            f"| information gain, KV-cached prefixes (the default) | {ig:.2f} | **{ig / main:.2f}** |",
            f"| information gain, separate passes (the reference method; {comp['separate_traces']} trace) "
            f"| {sep:.2f} | {sep / main:.2f} |",
            "",
            f"Timed apart in one process on {comp['traces']} traces. The KV cache is **{sep / ig:.0f}x** faster "
            f"than separate passes and agrees with them to {comp['max_abs_nll_diff']:.1e} nats (answer NLL). "
            "Target: information gain <= 2x the main pass.",
            "",
            f"Whole default profile (IFD, r-IFD, information gain, top-5; `reasonsift profile` defaults) of "
            f"{d['traces']} such traces, in its own process: **{d['wall_s']:.0f} s** (target < 600 s), peak RSS "
            f"**{d['peak_rss_gib']:.2f} GiB** (target < 3 GiB); information gain by {d['ig_method']}.",
            MARK_END,
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--traces", type=int, default=8)
    ap.add_argument("--steps", type=int, default=160, help="steps per trace (~27 tokens each)")
    ap.add_argument("--ratio-traces", type=int, default=2, help="traces for main vs main+ig")
    ap.add_argument("--separate-traces", type=int, default=1, help="traces for the slow reference (0: skip)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", default=None, help="folder for the saved model (default: a temp dir)")
    ap.add_argument("--out-md", default=None, help="replace the ig_bench section of this Markdown file")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--model-dir", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--separate", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child == "components":
        components(args)
        return
    if args.child:
        default_profile(args)
        return
    work = Path(args.work or tempfile.mkdtemp(prefix="ig-bench-"))
    args.model_dir = build(work)
    results = [run("components", args.ratio_traces, args), run("default", args.traces, args)]
    md = table(results, args)
    print(md)
    if args.out_md:
        write_section(
            args.out_md,
            md,
            MARK_BEGIN,
            MARK_END,
            "## Information gain on long traces\n\nScript: `bench/ig_bench.py`.",
        )


if __name__ == "__main__":
    main()
