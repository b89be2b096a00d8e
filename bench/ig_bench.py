"""Information gain on long traces: KV-cached prefixes vs separate passes, and the whole default profile.

Workload (issue 7): a random-init Qwen2 model with hidden size 64 and a 151,936-token LM head (Qwen2.5's
vocabulary size), a byte-level BPE tokenizer trained here, and traces of >= 4k tokens with >= 100 steps each.
Each configuration runs in its own subprocess (peak RSS = that process's ``ru_maxrss``), on the same model and
the same examples:

- ``main``: entropy, log-prob, rank and top-5 only (``--no-ifd --no-infogain``): the main pass alone;
- ``main+ig``: the main pass and information gain over every step, KV-cached (the default method);
- ``main+ig_separate``: the same with one separate pass per prefix (the reference method), on fewer traces;
- ``default``: the whole default profile (IFD, r-IFD, information gain, top-5) of all traces.

    python bench/ig_bench.py --out-md docs/benchmarks.md          # 8 traces x 160 steps (~4.4k tokens)
    python bench/ig_bench.py --traces 1 --ratio-traces 1 --steps 120   # a quick look
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


def child(args) -> None:
    """One configuration in this process; prints one JSON line."""
    import torch

    from reasonsift.models import load
    from reasonsift.profile import ProfileConfig, run_profile, shard

    torch.set_num_threads(args.threads)
    model, tok = load(str(args.model_dir), device="cpu", dtype="float32")
    exs = examples(args.n, args.steps)
    n_tok = [len(tok(e.trace)["input_ids"]) for e in exs]
    kw = {"ifd": False, "infogain": False}
    if args.child == "main+ig":
        kw = {"ifd": False}
    elif args.child == "main+ig_separate":
        kw = {"ifd": False}
        shard.cached_nlls = lambda *a, **k: None  # noqa: ARG005 - the reference method: one pass per prefix
    elif args.child == "default":
        kw = {}
    with tempfile.TemporaryDirectory() as tmp:
        cfg = ProfileConfig(out_dir=tmp, model="bench", max_length=32768, **kw)
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


def run(config: str, n: int, args) -> dict:
    cmd = [sys.executable, __file__, "--child", config, "--n", str(n), "--steps", str(args.steps)]
    cmd += ["--model-dir", str(args.model_dir), "--threads", str(args.threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    res = json.loads(out.strip().splitlines()[-1])
    print(json.dumps(res), flush=True)
    return res


def table(results: list[dict], args) -> str:
    import torch
    import transformers

    by = {r["config"]: r for r in results}
    main, ig = by["main"], by["main+ig"]
    lines = [
        MARK_BEGIN,
        f"Machine: {platform.machine()}, {os.cpu_count()} cores ({args.threads} threads), "
        f"Python {platform.python_version()}, torch {torch.__version__}, transformers {transformers.__version__}. "
        f"Model: random-init Qwen2, hidden 64, 2 layers, vocabulary {VOCAB:,}; BPE traces of {main['steps']} steps, "
        f"{main['trace_tokens_mean']:.0f} tokens on average (min {main['trace_tokens_min']}).",
        "",
        "| configuration | traces | wall (s) | s / trace | peak RSS (GiB) | IG method |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| `{r['config']}` | {r['traces']} | {r['wall_s']:.1f} | {r['wall_s'] / r['traces']:.1f} | "
            f"{r['peak_rss_gib']:.2f} | {r['ig_method'] or '-'} |"
        )
    ig_cost = (ig["wall_s"] - main["wall_s"] * ig["traces"] / main["traces"]) / ig["traces"]
    lines += [
        "",
        f"- Information gain (KV-cached) per trace: {ig_cost:.1f} s = **{ig_cost / (main['wall_s'] / main['traces']):.2f}x** the main pass alone (target <= 2x).",
    ]
    if "main+ig_separate" in by:
        sep = by["main+ig_separate"]
        sep_cost = (sep["wall_s"] - main["wall_s"] * sep["traces"] / main["traces"]) / sep["traces"]
        lines.append(
            f"- Separate passes (the reference method) per trace: {sep_cost:.1f} s: the KV cache is **{sep_cost / max(ig_cost, 1e-9):.1f}x** faster."
        )
    if "default" in by:
        d = by["default"]
        lines.append(
            f"- Whole default profile of {d['traces']} traces: **{d['wall_s']:.0f} s** (target < 600 s), peak RSS **{d['peak_rss_gib']:.2f} GiB** (target < 3 GiB)."
        )
    lines.append(MARK_END)
    return "\n".join(lines)


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
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    work = Path(args.work or tempfile.mkdtemp(prefix="ig-bench-"))
    args.model_dir = build(work)
    results = [run("main", args.ratio_traces, args), run("main+ig", args.ratio_traces, args)]
    if args.separate_traces:
        results.append(run("main+ig_separate", args.separate_traces, args))
    results.append(run("default", args.traces, args))
    md = table(results, args)
    print(md)
    if args.out_md:
        p = Path(args.out_md)
        text = p.read_text()
        if MARK_BEGIN in text:
            a, b = text.index(MARK_BEGIN), text.index(MARK_END) + len(MARK_END)
            text = text[:a] + md + text[b:]
        else:
            text += "\n## Information gain on long traces\n\nScript: `bench/ig_bench.py`.\n\n" + md + "\n"
        p.write_text(text)


if __name__ == "__main__":
    main()
