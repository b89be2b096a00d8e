"""``reasonsift data corrupt`` as a library call: ``CorruptConfig`` and ``main(cfg)``."""

from __future__ import annotations

from dataclasses import dataclass

from reasonsift.data.example import Example
from reasonsift.run.config import StageConfig


@dataclass
class CorruptConfig(StageConfig):
    inp: str = ""  # input dataset (any format `reasonsift data` reads)
    out: str = ""  # output file (.jsonl or .parquet)
    mode: str = ""  # swap | shuffle | perturb | drop
    seed: int = 0
    rate: float = 0.3  # perturb: probability that each number changes

    def __post_init__(self) -> None:
        from reasonsift.data.convert import check_paths
        from reasonsift.data.io import output_format
        from reasonsift.tasks.corrupt import MODES

        if not self.inp:
            raise ValueError("inp: no input given")
        if self.mode not in MODES:
            raise ValueError(f"mode: unknown {self.mode!r}; expected one of {', '.join(MODES)}")
        if not self.out:
            raise ValueError("out: no output file given")
        output_format(self.out, None)
        check_paths(self.inp, self.out, None)  # writing over the input would lose it


def main(cfg: CorruptConfig) -> list[Example]:
    """Corrupt the traces of ``cfg.inp`` (answers kept) and write them to ``cfg.out``."""
    from reasonsift.data.io import read_examples, write_examples
    from reasonsift.tasks.corrupt import corrupt

    corrupted = corrupt(read_examples(cfg.inp).examples, cfg.mode, seed=cfg.seed, rate=cfg.rate)
    write_examples(corrupted, cfg.out)
    return corrupted
