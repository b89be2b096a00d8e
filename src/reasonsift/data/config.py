"""Configs of the reading verbs ``reasonsift data validate`` and ``reasonsift data stats``."""

from __future__ import annotations

from dataclasses import dataclass, field

from reasonsift.data.convert import check_read_options
from reasonsift.run.config import StageConfig


@dataclass
class ValidateConfig(StageConfig):
    inp: str = ""  # .jsonl, .json, .parquet, a save_to_disk directory or a hub id
    from_: str = "auto"  # auto | native | trl | s1k | limo | gym | verl
    field_map: dict[str, str] = field(default_factory=dict)  # rename columns before import (or "a=b,c=d")
    split: str = "train"

    def __post_init__(self) -> None:
        check_read_options(self)


@dataclass
class StatsConfig(ValidateConfig):
    tokenizer: str | None = None  # count trace tokens with "builtin" or a local HF tokenizer dir; None: chars
    batch_size: int = 256  # traces tokenized per batch

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.batch_size < 1:
            raise ValueError(f"batch_size: expected >= 1, got {self.batch_size}")
