"""``reasonsift data convert`` as a library call: a config dataclass and ``main(cfg)``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from reasonsift.data.errors import DataError, Problem
from reasonsift.data.formats import FORMAT_NAMES
from reasonsift.data.io import ON_ERROR, ReadResult, output_format, read_examples, write_examples
from reasonsift.data.readers import STDIN
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
        rejects = self.rejects_path() if self.on_error == "skip" or self.rejects else None
        check_paths(self.inp, self.out, rejects)

    def rejects_path(self) -> Path:
        return Path(self.rejects) if self.rejects else Path(self.out).with_suffix(".rejects.jsonl")


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when ``a`` and ``b`` name one file: equal once resolved, or (both existing) one inode."""
    pa, pb = Path(a), Path(b)
    if pa.resolve() == pb.resolve():
        return True
    try:
        return os.path.samefile(pa, pb)  # hard links, bind mounts
    except OSError:
        return False


def check_paths(inp: str, out: str | os.PathLike, rejects: str | os.PathLike | None) -> None:
    """Refuse paths where one write would destroy the input or the other output (``ValueError``)."""
    named = {"out": out, "rejects": rejects}
    for name, p in named.items():
        if p is None:
            continue
        if inp != STDIN and same_file(p, inp):
            raise ValueError(f"{name}: {str(p)!r} is the input file; writing it would destroy the input")
        if Path(p).exists() and not Path(p).is_file():
            raise ValueError(f"{name}: {str(p)!r} exists and is not a regular file; name a file to write")
    if rejects is not None and same_file(out, rejects):
        raise ValueError(
            f"rejects: {str(rejects)!r} is also the output; the rejects would overwrite the output "
            "(or the output the rejects); pass another --rejects file"
        )


@dataclass
class ConvertResult:
    read: ReadResult
    n_written: int
    rejects_path: Path | None  # written only with on_error="skip"


def main(cfg: ConvertConfig) -> ConvertResult:
    """Read (raising DataError before writing anything when ``on_error="fail"``), then write.

    When every record is rejected nothing is written but the rejects, and ``DataError`` is raised: an
    empty output that exits 0 looks like a successful conversion.
    """
    rejects = cfg.rejects_path() if cfg.on_error == "skip" else None
    res = read_examples(
        cfg.inp,
        fmt=cfg.from_,
        field_map=cfg.field_map,
        on_error=cfg.on_error,
        rejects_path=rejects,
        split=cfg.split,
    )
    if not res.examples:
        where = f"; rejects: {rejects}" if rejects is not None else ""
        summary = Problem(
            str(cfg.inp),
            None,
            None,
            f"all {res.n_read} records were rejected; nothing written to {cfg.out}{where}",
        )
        raise DataError([*res.problems, summary], n_read=res.n_read, n_rejected=len(res.rejects))
    n = write_examples(res.examples, cfg.out, to=cfg.to, split=cfg.split)
    return ConvertResult(res, n, rejects)
