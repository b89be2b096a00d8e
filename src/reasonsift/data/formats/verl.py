"""verl RL Parquet: ``data_source``, ``prompt`` (chat list), ``ability``, ``reward_model``, ``extra_info``.

The exporter writes ``reward_model={"style": "rule", "ground_truth": answer}`` and keeps every Example field
in ``extra_info`` (``meta`` as a JSON string, so rows with different meta keys share one Parquet struct).
"""

from __future__ import annotations

import json
from typing import Any

from reasonsift.data.example import Example
from reasonsift.data.formats.base import (
    Context,
    FieldProblem,
    Importer,
    check_messages,
    extra_fields,
    has_columns,
    need,
    strip_options,
    user_turn,
)
from reasonsift.data.render import prompt_text

# Keys of extra_info that carry Example fields (written by export_row).
OWN_KEYS = ("id", "trace", "choices", "format", "domain", "source", "meta")


def convert(rec: dict[str, Any], ctx: Context) -> tuple[dict[str, Any], set[str]]:
    prompt = need(rec, "prompt")
    if isinstance(prompt, str):  # some pipelines keep the chat list as a JSON string
        try:
            prompt = json.loads(prompt)
        except json.JSONDecodeError:
            raise FieldProblem("prompt", "expected a list of {role, content} messages") from None
    user, system = user_turn(check_messages(prompt, "prompt"), "prompt")
    rm = need(rec, "reward_model")
    if not isinstance(rm, dict):
        raise FieldProblem("reward_model", f"expected an object, got {type(rm).__name__}")
    if rm.get("ground_truth") is None:
        raise FieldProblem("reward_model.ground_truth", "missing required field")
    if not isinstance(rm["ground_truth"], str):
        raise FieldProblem(
            "reward_model.ground_truth", f"expected a string, got {type(rm['ground_truth']).__name__}"
        )
    info = rec.get("extra_info") or {}
    if not isinstance(info, dict):
        raise FieldProblem("extra_info", f"expected an object, got {type(info).__name__}")
    ours = all(k in info for k in OWN_KEYS)
    own = {k: info[k] for k in OWN_KEYS if k in info}
    d, used = extra_fields(own, ctx)
    d["trace"] = own.get("trace", "")
    d.update(question=strip_options(user, d.get("choices"), d.get("format")), answer=rm["ground_truth"])
    used = {"prompt", "reward_model", "extra_info"}
    meta = dict(d.get("meta") or {})
    if ours:
        used |= {"data_source", "ability"}
    else:
        rest = {k: v for k, v in info.items() if k not in OWN_KEYS}
        if rest:
            meta["extra_info"] = rest
        if rm.get("style") not in (None, "rule"):
            meta["reward_style"] = rm["style"]
        if "domain" not in own and isinstance(rec.get("ability"), str):
            d["domain"] = rec["ability"]
        if "source" not in own and isinstance(rec.get("data_source"), str):
            index = info.get("index")
            d["source"] = f"{rec['data_source']}:{index if index is not None else ctx.line}"
    if system:
        meta["system"] = system
    d["meta"] = meta
    return d, used


def export_row(ex: Example, index: int, split: str = "train") -> dict[str, Any]:
    """One verl row; ``ability``/``data_source`` from the domain (verl picks reward functions by them)."""
    return {
        "data_source": ex.domain or "reasonsift",
        "prompt": [{"role": "user", "content": prompt_text(ex)}],
        "ability": ex.domain or "reasoning",
        "reward_model": {"style": "rule", "ground_truth": ex.answer},
        "extra_info": {
            "split": split,
            "index": index,
            "id": ex.id,
            "trace": ex.trace,
            "choices": ex.choices,
            "format": ex.format,
            "domain": ex.domain,
            "source": ex.source,
            "meta": json.dumps(ex.meta, ensure_ascii=False, sort_keys=True, default=str),
        },
    }


IMPORTER = Importer(
    "verl",
    "verl Parquet: prompt (chat list), reward_model.ground_truth, data_source, ability, extra_info",
    convert,
    has_columns("prompt", "reward_model"),
)
