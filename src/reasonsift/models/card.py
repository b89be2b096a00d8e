"""The model card (README.md) written beside a pretrained built-in model."""

from __future__ import annotations

from typing import Any


def model_card(record: dict[str, Any]) -> str:
    """Markdown card from the run record that ``train.pretrain`` writes to ``reasonsift_pretrain.json``."""
    cfg, res = record["config"], record["result"]
    mixture = ", ".join(f"{k}={v:g}" for k, v in cfg["mixture"].items())
    lines = [
        "---",
        "library_name: transformers",
        "tags: [reasonsift, tiny, reasoning, from-scratch]",
        "---",
        f"# {record.get('name') or 'reasonsift tiny model'}",
        "",
        "A tiny Llama trained from scratch by `reasonsift model pretrain` on procedurally generated",
        "reasoning tasks (character-level tokenizer, chat template included). Load it with plain",
        "`transformers`: `AutoModelForCausalLM.from_pretrained(DIR)`.",
        "",
        "| field | value |",
        "|---|---|",
        f"| tasks | {', '.join(cfg['tasks'])} |",
        f"| mixture | {mixture} |",
        f"| steps | {res['steps']} (batch {cfg['batch_size']} documents) |",
        f"| seed | {cfg['seed']} |",
        f"| difficulty | {cfg['difficulty'] if cfg['difficulty'] is not None else 'task default'} |",
        f"| loss on | {cfg['loss_on']} tokens |",
        f"| parameters | {res['parameters']:,} |",
        f"| data hash (sha256 chain over all documents) | `{res['data_hash']}` |",
        f"| final loss | {res['final_loss']:.4f} |",
        f"| training tokens | {res['tokens']:,} |",
        f"| wall time | {res['wall_s']:.0f} s ({res['tokens_per_s']:.0f} tokens/s on {res['device']}) |",
        f"| versions | torch {record['versions']['torch']}, transformers {record['versions']['transformers']} |",
        "",
        "Reproduce: `reasonsift model pretrain` with the config in `reasonsift_pretrain.json`.",
        "",
    ]
    return "\n".join(lines)
