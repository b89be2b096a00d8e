"""Reproduce a built-in model from its recorded recipe, evaluate it, and optionally ship it as an asset.

    python bench/pretrain_builtin.py --name tiny-arith --out /tmp/tiny-arith          # train + eval
    python bench/pretrain_builtin.py --name tiny-arith --out /tmp/tiny-arith --ship   # ... and copy to assets
    python bench/pretrain_builtin.py --name tiny-arith --out DIR --eval-only          # eval an existing run

Prints steps, wall time, tokens/s and greedy exact match (test and ood) as JSON; record them in
docs/benchmarks.md ("Built-in model").
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
from pathlib import Path

import torch
import transformers

from reasonsift.evaluate.accuracy import evaluate_accuracy
from reasonsift.models.builtin import ASSETS, RECIPES
from reasonsift.models.load import load
from reasonsift.train.pretrain import RECORD_FILE, PretrainConfig, main

SHIPPED = ("config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
           "tokenizer_config.json", "chat_template.jinja", "README.md", RECORD_FILE, "train_log.jsonl")  # fmt: skip


def run() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", default="tiny-arith", choices=sorted(RECIPES), help="Recipe to reproduce.")
    ap.add_argument("--out", type=Path, required=True, help="Run directory.")
    ap.add_argument("--mixture", default=None, help="Override the recipe's mixture, e.g. answer=1.")
    ap.add_argument("--eval-only", action="store_true", help="Evaluate an existing run directory.")
    ap.add_argument("--ship", action="store_true", help="Copy the final model into reasonsift/assets/models.")
    ap.add_argument("-n", type=int, default=500, help="Evaluation items per split.")
    args = ap.parse_args()
    recipe = dict(RECIPES[args.name])
    if args.mixture:
        from reasonsift.train.mixture import parse_mixture

        recipe["mixture"] = parse_mixture(args.mixture)
    if not args.eval_only:
        main(PretrainConfig(out_dir=str(args.out), resume=True, **recipe))
    record = json.loads((args.out / RECORD_FILE).read_text())
    model, tok = load(args.out)
    res = evaluate_accuracy(model, tok, record["config"]["tasks"], n=args.n, splits=("test", "ood"), seed=0)
    report = {
        "name": args.name,
        "steps": record["result"]["steps"],
        "wall_s": round(record["result"]["wall_s"], 1),
        "tokens_per_s": round(record["result"]["tokens_per_s"]),
        "mixture": record["config"]["mixture"],
        "accuracy": {f"{s.task}/{s.split}": round(s.accuracy, 4) for s in res.scores},
        "machine": f"{platform.machine()} {platform.processor() or ''} threads={torch.get_num_threads()}",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
    }
    print(json.dumps(report, indent=1))
    if args.ship:
        dest = ASSETS / args.name
        dest.mkdir(parents=True, exist_ok=True)
        for f in SHIPPED:
            if (args.out / f).is_file():
                shutil.copy2(args.out / f, dest / f)
        print(f"shipped to {dest}")


if __name__ == "__main__":
    run()
