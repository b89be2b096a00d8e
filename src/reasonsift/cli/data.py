"""`reasonsift data ...` verbs. Formats (convert/validate/stats) live here; task verbs in data_generate.py."""

from __future__ import annotations

from pathlib import Path

import typer

from reasonsift.cli.common import config_option, console, default, load_config, out, progress, user_errors
from reasonsift.cli.data_generate import corrupt, generate
from reasonsift.data.config import StatsConfig, ValidateConfig
from reasonsift.data.convert import ConvertConfig

app = typer.Typer(no_args_is_help=True)
app.command("generate")(generate)
app.command("corrupt")(corrupt)

C, S = ConvertConfig, StatsConfig  # every default lives in these; none is restated here
_INPUT_HELP = "Input: .jsonl, .json, .parquet, a save_to_disk directory or a hub id."
_FROM_HELP = "Input format: auto (detect from columns), native, trl, s1k, limo, gym or verl."
_MAP_HELP = "Rename input columns before import: target=column pairs, e.g. question=problem,answer=solution."
_SPLIT_HELP = "Split to read from a Hugging Face dataset directory or hub id."
_READ = {"map_": "field_map"}  # CLI parameter -> config field


def _input() -> object:
    return typer.Argument(None, metavar="INPUT", show_default=False, help=_INPUT_HELP)


def _print_problems(problems) -> None:
    for p in problems:
        console.print(str(p), highlight=False, markup=False, soft_wrap=True)


def _print_error(e) -> None:
    """A DataError's problems, then ``read N = valid K + rejected R`` when it came from reading records."""
    _print_problems(e.problems)
    if (line := e.balance()) is not None:
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def _read_all(cfg: ValidateConfig, status: str):
    """Read every record with rejects kept (``on_error="skip"``); a whole-file problem prints and exits 1."""
    from reasonsift.data.errors import DataError
    from reasonsift.data.io import read_examples

    try:
        with console.status(status):
            return read_examples(
                cfg.inp, fmt=cfg.from_, field_map=cfg.field_map, on_error="skip", split=cfg.split
            )
    except DataError as e:
        _print_error(e)
        raise typer.Exit(1) from None


@app.command("convert")
def convert(
    ctx: typer.Context,
    inp: str = _input(),
    output: Path = typer.Option(
        None, "--out", "-o", "--output", metavar="FILE", help="Output file (.jsonl or .parquet)."
    ),
    from_: str = typer.Option(default(C, "from_"), "--from", help=_FROM_HELP),
    to: str = typer.Option(
        default(C, "to"),
        "--to",
        help="Output format: jsonl, parquet, trl or verl (default: from the extension).",
    ),
    map_: str = typer.Option(None, "--map", help=_MAP_HELP),
    on_error: str = typer.Option(
        default(C, "on_error"),
        "--on-error",
        help="fail: write nothing if any record is bad; skip: write good ones + rejects.",
    ),
    rejects: Path = typer.Option(
        default(C, "rejects"),
        "--rejects",
        metavar="FILE",
        help="Where --on-error skip writes rejects (default: <output>.rejects.jsonl).",
    ),
    split: str = typer.Option(default(C, "split"), "--split", help=_SPLIT_HELP),
    config: Path = config_option(),
) -> None:
    """Convert a dataset between formats; prints read = written + rejected."""
    from reasonsift.data.convert import main
    from reasonsift.data.errors import DataError

    cfg = load_config(ctx, ConvertConfig, config, rename={**_READ, "output": "out"}, required=("inp", "out"))
    with user_errors(ctx):
        try:
            with console.status(f"converting {cfg.inp}"):
                res = main(cfg)
        except DataError as e:
            _print_error(e)
            raise typer.Exit(1) from None
    r = res.read
    out.print(
        f"{r.format} ({r.container}) -> {cfg.out}: read {r.n_read} = written {res.n_written} "
        f"+ rejected {len(r.rejects)}",
        highlight=False,
        soft_wrap=True,
    )
    if res.rejects_path is not None and r.rejects:
        out.print(f"rejects: {res.rejects_path}", highlight=False, soft_wrap=True)


@app.command("validate")
def validate(
    ctx: typer.Context,
    inp: str = _input(),
    from_: str = typer.Option(default(C, "from_"), "--from", help=_FROM_HELP),
    map_: str = typer.Option(None, "--map", help=_MAP_HELP),
    split: str = typer.Option(default(C, "split"), "--split", help=_SPLIT_HELP),
    config: Path = config_option(),
) -> None:
    """List every problem as path:line: field: message; exit 1 if there is any."""
    cfg = load_config(ctx, ValidateConfig, config, rename=_READ, required=("inp",))
    with user_errors(ctx):
        r = _read_all(cfg, f"validating {cfg.inp}")
    _print_problems(r.problems)
    status = "ok" if not r.rejects else f"{len(r.problems)} problem(s)"
    out.print(
        f"{cfg.inp}: {r.format} ({r.container}), {r.n_read} records, {len(r.examples)} valid, "
        f"{len(r.rejects)} rejected: {status}",
        highlight=False,
        soft_wrap=True,
    )
    if r.rejects:
        raise typer.Exit(1)


@app.command("stats")
def stats(
    ctx: typer.Context,
    inp: str = _input(),
    tokenizer: str = typer.Option(
        default(S, "tokenizer"),
        "--tokenizer",
        help="Count trace tokens with 'builtin' or a local HF tokenizer dir (default: chars).",
    ),
    from_: str = typer.Option(default(S, "from_"), "--from", help=_FROM_HELP),
    map_: str = typer.Option(None, "--map", help=_MAP_HELP),
    split: str = typer.Option(default(S, "split"), "--split", help=_SPLIT_HELP),
    batch_size: int = typer.Option(
        default(S, "batch_size"), "--batch-size", help="Traces tokenized per batch."
    ),
    config: Path = config_option(),
) -> None:
    """Counts by domain and format, and the trace length distribution (min/p50/p90/max/mean)."""
    from rich.table import Table

    from reasonsift.data import stats as st

    cfg = load_config(ctx, StatsConfig, config, rename=_READ, required=("inp",))
    with user_errors(ctx):
        r = _read_all(cfg, f"reading {cfg.inp}")
        exs = r.examples
        if not exs:  # statistics of nothing would read as a valid, empty dataset
            _print_problems(r.problems)
            raise ValueError(f"{cfg.inp}: all {r.n_read} records were rejected; no statistics")
        if cfg.tokenizer is None:
            unit, lengths = "chars", [len(ex.trace) for ex in exs]
        else:
            count = st.token_counter(st.load_tokenizer(cfg.tokenizer))
            unit, lengths = "tokens", []
            with progress() as bar:
                task = bar.add_task("tokenizing traces", total=len(exs))
                for i in range(0, len(exs), cfg.batch_size):
                    chunk = exs[i : i + cfg.batch_size]
                    lengths += count([ex.trace for ex in chunk])
                    bar.advance(task, len(chunk))
    out.print(
        f"{cfg.inp}: {r.format} ({r.container}), {len(exs)} examples"
        + (f", {len(r.rejects)} rejected (see `reasonsift data validate`)" if r.rejects else ""),
        highlight=False,
        soft_wrap=True,
    )
    for title, key in (("domain", lambda e: e.domain), ("format", lambda e: e.format)):
        t = Table(title=f"examples by {title}")
        t.add_column(title)
        t.add_column("n", justify="right")
        for k, v in st.counts(exs, key).items():
            t.add_row(k, str(v))
        out.print(t)
    summary = st.length_summary(lengths)
    t = Table(title=f"trace length ({unit})")
    for k in st.SUMMARY_KEYS:
        t.add_column(k, justify="right")
    t.add_row(*(f"{summary[k]:.1f}" if k == "mean" else f"{summary[k]:g}" for k in st.SUMMARY_KEYS))
    out.print(t)
