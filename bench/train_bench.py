"""SFT throughput: reasonsift's masked loss (completion, forking, random) against TRL's plain SFT, same run.

Every arm trains the same model from the same weights on the same rendered rows (the profiler's rendering,
``reasonsift.train.sft.build_rows``) for the same steps and batch size; only the loss differs:

* ``trl``: TRL's ``SFTTrainer`` unchanged, with its own collator (``DataCollatorForLanguageModeling``) and
  its completion-only loss (plus the entropy and token-accuracy metrics it logs every step);
* ``completion`` / ``forking`` / ``random``: ``reasonsift.train.sft.MaskedSFTTrainer`` (TRL's trainer with
  ``compute_loss`` replaced); forking recomputes the entropies from the step's own logits.

Arms run interleaved, ``--repeats`` times, after one warm-up round; the table gives the median tokens per
second (non-pad tokens of the batches / wall time of ``trainer.train()``) and the ratio to ``trl``.

    python bench/train_bench.py --out-md docs/benchmarks.md
    python bench/train_bench.py --steps 10 --repeats 1      # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from mdsection import write_section  # bench/ is the script's directory (sys.path[0])

MARK_BEGIN, MARK_END = "<!-- train_bench:begin -->", "<!-- train_bench:end -->"
ARMS = ("trl", "completion", "forking", "random")


def build_model(root: Path, vocab: int, hidden: int, layers: int) -> Path:
    """A Llama with the built-in tokenizer and a ``vocab``-row LM head (a real model's head cost)."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    import reasonsift

    tiny = Path(reasonsift.__file__).parent / "assets" / "models" / "tiny-arith"
    tok = AutoTokenizer.from_pretrained(tiny)
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=vocab, hidden_size=hidden, intermediate_size=4 * hidden, num_hidden_layers=layers,
        num_attention_heads=max(1, hidden // 64), num_key_value_heads=max(1, hidden // 64),
        max_position_embeddings=2048, pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )  # fmt: skip
    path = root / "model"
    LlamaForCausalLM(cfg).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def trainer_for(arm: str, model_path: Path, rows: list[dict], steps: int, batch: int, out: Path):
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.trainer_callback import PrinterCallback
    from trl import SFTConfig, SFTTrainer
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    from reasonsift.train.common import trainer_args
    from reasonsift.train.sft import Collator, SFTRunConfig, make_trainer_class

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(model_path)
    tok = AutoTokenizer.from_pretrained(model_path)
    cfg = SFTRunConfig(
        model=str(model_path), data="-", out_dir=str(out), mask="completion" if arm == "trl" else arm,
        max_steps=steps, batch_size=batch, save_every=10**9,
    )  # fmt: skip
    args = SFTConfig(
        **{**trainer_args(cfg, out, "cpu"), "save_strategy": "no"},
        remove_unused_columns=False,
        dataset_kwargs={"skip_prepare_dataset": True},
        max_length=None,
        completion_only_loss=True,
    )
    data = Dataset.from_list(rows)
    if (
        arm == "trl"
    ):  # TRL wants the labels itself when its dataset preparation is skipped: -100 off the completion
        data = Dataset.from_list(
            [r | {"labels": [t if m else -100 for t, m in zip(r["input_ids"], r["completion_mask"], strict=True)]}
             for r in rows]
        )  # fmt: skip
        trainer = SFTTrainer(
            model=model,
            args=args,
            train_dataset=data,
            processing_class=tok,
            data_collator=DataCollatorForLanguageModeling(pad_token_id=tok.pad_token_id),
        )
    else:
        trainer = make_trainer_class()(
            model=model,
            args=args,
            data_collator=Collator(tok.pad_token_id),
            train_dataset=data,
            processing_class=tok,
            run_cfg=cfg,
            curves=out / "curves.jsonl",
        )
    trainer.remove_callback(PrinterCallback)
    return trainer


def run(args) -> dict:
    import torch
    import transformers
    import trl

    from reasonsift.tasks import get_task
    from reasonsift.train.sft import build_rows

    torch.set_num_threads(args.threads or torch.get_num_threads())
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model_path = build_model(root, args.vocab, args.hidden, args.layers)
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(model_path)
        exs = get_task(args.task).generate(args.n, seed=0, difficulty=args.difficulty)
        rows = build_rows(exs, tok, 100_000)
        mean_len = statistics.mean(len(r["input_ids"]) for r in rows)
        times: dict[str, list[float]] = {a: [] for a in ARMS}
        for rep in range(args.repeats + 1):  # round 0 warms up
            for arm in ARMS:
                trainer = trainer_for(arm, model_path, rows, args.steps, args.batch, root / f"{arm}-{rep}")
                t = time.perf_counter()
                trainer.train()
                wall = time.perf_counter() - t
                if rep:
                    times[arm].append(wall)
                print(f"round {rep} {arm}: {wall:.2f} s", flush=True)
        # Every arm sees the same batches (same seed, same sampler); count them the way the curves do.
        curve = [json.loads(x) for x in (root / "completion-1" / "curves.jsonl").read_text().splitlines()]
        tokens = sum(e["tokens"] for e in curve)
        res = {
            "tokens": tokens,
            "mean_len": mean_len,
            "config": vars(args) | {"out_md": str(args.out_md) if args.out_md else None},
            "versions": {
                "torch": torch.__version__,
                "transformers": transformers.__version__,
                "trl": trl.__version__,
            },
            "arms": {},
        }
        base = statistics.median(times["trl"])
        for arm in ARMS:
            med = statistics.median(times[arm])
            res["arms"][arm] = {
                "wall_s": times[arm],
                "median_s": med,
                "tokens_per_s": tokens / med,
                "vs_trl": base / med,
            }
    return res


def markdown(r: dict) -> str:
    c = r["config"]
    lines = [
        MARK_BEGIN,
        f"`python bench/train_bench.py --out-md docs/benchmarks.md` — a Llama of hidden {c['hidden']}, "
        f"{c['layers']} layers and a {c['vocab']:,}-row LM head, trained from the same weights on {c['n']} "
        f"`{c['task']}` rows (mean {r['mean_len']:.0f} tokens), {c['steps']} steps of {c['batch']} sequences, "
        f"full fine-tuning on the CPU; arms interleaved, {c['repeats']} rounds after a warm-up, median shown. "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs visible (shared with other jobs), "
        f"torch {r['versions']['torch']}, transformers {r['versions']['transformers']}, "
        f"TRL {r['versions']['trl']}. Target: forking within 5% of `trl` (ratio >= 0.95). TRL's own loss here is "
        "its fused LM head (`fused_lm_head=True`: chunked log-probs, plus the entropy and token accuracy it logs), "
        "slower on the CPU than materialised logits; the last column isolates the mask's own cost.",
        "",
        "| arm | what runs | median wall | tokens/s | vs TRL plain SFT | vs `completion` |",
        "|---|---|---|---|---|---|",
    ]
    what = {
        "trl": "TRL `SFTTrainer`, its collator and completion-only loss",
        "completion": "reasonsift `MaskedSFTTrainer`, `--mask completion`",
        "forking": "`--mask forking` (entropies recomputed from the step's logits)",
        "random": "`--mask random` (forking count, drawn per sequence)",
    }
    own = r["arms"]["completion"]["median_s"]
    for arm, x in r["arms"].items():
        lines.append(
            f"| {arm} | {what[arm]} | {x['median_s']:.2f} s | {x['tokens_per_s']:,.0f} | {x['vs_trl']:.3f} | "
            f"{own / x['median_s']:.3f} |"
        )
    lines.append(MARK_END)
    return "\n".join(lines)


def cli() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="arith")
    ap.add_argument("--difficulty", type=int, default=3)
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--vocab", type=int, default=32_000)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out-md", type=Path, default=None)
    a = ap.parse_args()
    r = run(a)
    print(json.dumps({k: v["vs_trl"] for k, v in r["arms"].items()}))
    md = markdown(r)
    print(md)
    if a.out_md:
        write_section(a.out_md, md, MARK_BEGIN, MARK_END, "## Training (`reasonsift train sft`)")


if __name__ == "__main__":
    cli()
