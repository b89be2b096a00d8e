"""``reasonsift data convert`` as a library call: a config dataclass and ``main(cfg)``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reasonsift.data.formats import FORMAT_NAMES
from reasonsift.data.io import ON_ERROR, ReadResult, output_format, read_examples, write_examples
from reasonsift.run.config import StageConfig


def check_read_options(cfg) -> None:
    """The reading options every data verb shares: ``inp``, ``from_``, ``field_map`` (a dict or ``a=b,c=d``)."""
    from reasonsift.data.fieldmap import parse_field_map

    if not cfg.inp:
        raise ValueError("inp: no input given")
    if cfg.from_ not in ("auto", *FORMAT_NAMES):
        raise ValueError(f"from: expected auto or one of {', '.join(FORMAT_NAMES)}, got {cfg.from_!r}")
    if isinstance(cfg.field_map, str):
        try:
            cfg.field_map = parse_field_map(cfg.field_map)
        except ValueError as e:
            raise ValueError("field_map" + str(e).removeprefix("--map")) from None


@dataclass
class ConvertConfig(StageConfig):
    inp: str = ""  # .jsonl, .json, .parquet, a save_to_disk directory or a hub id
    out: str = ""  # output file (.jsonl or .parquet)
    from_: str = "auto"  # auto | native | trl | s1k | limo | gym | verl
    to: str | None = None  # jsonl | parquet | trl | verl; None = from the output extension
    field_map: dict[str, str] = field(default_factory=dict)
    on_error: str = "fail"  # fail: write nothing if any record is bad; skip: write the good ones + rejects
    rejects: str | None = None  # default <out without extension>.rejects.jsonl
    split: str = "train"

    def __post_init__(self) -> None:
        check_read_options(self)
        if not self.out:
            raise ValueError("out: no output file given")
        if self.on_error not in ON_ERROR:
            raise ValueError(f"on_error: expected one of {', '.join(ON_ERROR)}, got {self.on_error!r}")
        output_format(self.out, self.to)  # raises ValueError naming ``to`` before any reading

    def rejects_path(self) -> Path:
        return Path(self.rejects) if self.rejects else Path(self.out).with_suffix(".rejects.jsonl")


@dataclass
class ConvertResult:
    read: ReadResult
    n_written: int
    rejects_path: Path | None  # written only with on_error="skip"


def main(cfg: ConvertConfig) -> ConvertResult:
    """Read (raising DataError before writing anything when ``on_error="fail"``), then write."""
    rejects = cfg.rejects_path() if cfg.on_error == "skip" else None
    res = read_examples(
        cfg.inp,
        fmt=cfg.from_,
        field_map=cfg.field_map,
        on_error=cfg.on_error,
        rejects_path=rejects,
        split=cfg.split,
    )
    n = write_examples(res.examples, cfg.out, to=cfg.to, split=cfg.split)
    return ConvertResult(res, n, rejects)
