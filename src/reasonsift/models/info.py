"""Facts about a model for `reasonsift model info`: read from the loaded model, not guessed from names."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasonsift.models.template import has_chat_template
from reasonsift.run.config import StageConfig


@dataclass
class InfoConfig(StageConfig):
    model: str = ""  # model directory or Hugging Face id
    as_json: bool = False  # print JSON instead of a table
    trust_remote_code: bool = False
    allow_pickle: bool = False

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("model: no model given")


def main(cfg: InfoConfig) -> dict[str, Any]:
    return model_info(cfg.model, trust_remote_code=cfg.trust_remote_code, allow_pickle=cfg.allow_pickle)


def model_info(name_or_path: str, **load_kw: Any) -> dict[str, Any]:
    """Architecture, parameter count, vocabulary, context length, template (``present``/``plain``)."""
    from reasonsift.models.load import load

    model, tok = load(name_or_path, device="cpu", dtype="float32", **load_kw)
    cfg = model.config
    context = getattr(cfg, "max_position_embeddings", None) or getattr(cfg, "n_positions", None)
    facts: dict[str, Any] = {
        "architecture": (cfg.architectures or [type(model).__name__])[0],
        "model_type": cfg.model_type,
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocab_size": cfg.vocab_size,
        "tokenizer_size": len(tok),
        "context_length": context,
        "layers": getattr(cfg, "num_hidden_layers", None),
        "hidden_size": getattr(cfg, "hidden_size", None),
        "template": "present" if has_chat_template(tok) else "plain",
    }
    record = Path(name_or_path) / "reasonsift_pretrain.json"
    if record.is_file():
        rec = json.loads(record.read_text(encoding="utf-8"))
        facts["pretrained_on"] = ",".join(rec["config"]["tasks"])
        facts["pretrain_steps"] = rec["result"]["steps"]
        facts["pretrain_seed"] = rec["config"]["seed"]
    return facts
