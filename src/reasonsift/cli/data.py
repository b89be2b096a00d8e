"""`reasonsift data ...` verbs. Formats (convert/validate/stats) live here; task verbs in data_generate.py."""

from __future__ import annotations

from pathlib import Path

import typer

from reasonsift.cli.common import console, out, progress, user_errors
from reasonsift.cli.data_generate import corrupt, generate

app = typer.Typer(no_args_is_help=True)
app.command("generate")(generate)
app.command("corrupt")(corrupt)

_FROM_HELP = "Input format: auto (detect from columns), native, trl, s1k, limo, gym or verl."
_MAP_HELP = "Rename input columns before import: target=column pairs, e.g. question=problem,answer=solution."
_SPLIT_HELP = "Split to read from a Hugging Face dataset directory or hub id."


def _print_problems(problems) -> None:
    for p in problems:
        console.print(str(p), highlight=False, markup=False, soft_wrap=True)


def _print_error(e) -> None:
    """A DataError's problems, then ``read N = valid K + rejected R`` when it came from reading records."""
    _print_problems(e.problems)
    if (line := e.balance()) is not None:
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def _read_all(inp: str, from_: str, map_: str | None, split: str, status: str):
    """Read every record with rejects kept (``on_error="skip"``); a whole-file problem prints and exits 1."""
    from reasonsift.data.errors import DataError
    from reasonsift.data.fieldmap import parse_field_map
    from reasonsift.data.io import read_examples

    try:
        with console.status(status):
            return read_examples(
                inp, fmt=from_, field_map=parse_field_map(map_), on_error="skip", split=split
            )
    except DataError as e:
        _print_error(e)
        raise typer.Exit(1) from None


@app.command("convert")
def convert(
    inp: str = typer.Argument(
        ..., help="Input: .jsonl, .json, .parquet, a save_to_disk directory or a hub id."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Output file (.jsonl or .parquet)."),
    from_: str = typer.Option("auto", "--from", help=_FROM_HELP),
    to: str = typer.Option(
        None, "--to", help="Output format: jsonl, parquet, trl or verl (default: from the extension)."
    ),
    map_: str = typer.Option(None, "--map", help=_MAP_HELP),
    on_error: str = typer.Option(
        "fail",
        "--on-error",
        help="fail: write nothing if any record is bad; skip: write good ones + rejects.",
    ),
    rejects: Path = typer.Option(
        None, "--rejects", help="Where --on-error skip writes rejects (default: <output>.rejects.jsonl)."
    ),
    split: str = typer.Option("train", "--split", help=_SPLIT_HELP),
) -> None:
    """Convert a dataset between formats; prints read = written + rejected."""
    from reasonsift.data.convert import ConvertConfig, main
    from reasonsift.data.errors import DataError
    from reasonsift.data.fieldmap import parse_field_map

    with user_errors():
        cfg = ConvertConfig(
            inp,
            str(output),
            from_,
            to,
            parse_field_map(map_),
            on_error,
            str(rejects) if rejects else None,
            split,
        )
        try:
            with console.status(f"converting {inp}"):
                res = main(cfg)
        except DataError as e:
            _print_error(e)
            raise typer.Exit(1) from None
    r = res.read
    out.print(
        f"{r.format} ({r.container}) -> {output}: read {r.n_read} = written {res.n_written} "
        f"+ rejected {len(r.rejects)}",
        highlight=False,
        soft_wrap=True,
    )
    if res.rejects_path is not None and r.rejects:
        out.print(f"rejects: {res.rejects_path}", highlight=False, soft_wrap=True)


@app.command("validate")
def validate(
    inp: str = typer.Argument(
        ..., help="Input: .jsonl, .json, .parquet, a save_to_disk directory or a hub id."
    ),
    from_: str = typer.Option("auto", "--from", help=_FROM_HELP),
    map_: str = typer.Option(None, "--map", help=_MAP_HELP),
    split: str = typer.Option("train", "--split", help=_SPLIT_HELP),
) -> None:
    """List every problem as path:line: field: message; exit 1 if there is any."""
    with user_errors():
        r = _read_all(inp, from_, map_, split, f"validating {inp}")
    _print_problems(r.problems)
    status = "ok" if not r.rejects else f"{len(r.problems)} problem(s)"
    out.print(
        f"{inp}: {r.format} ({r.container}), {r.n_read} records, {len(r.examples)} valid, "
        f"{len(r.rejects)} rejected: {status}",
        highlight=False,
        soft_wrap=True,
    )
    if r.rejects:
        raise typer.Exit(1)


@app.command("stats")
def stats(
    inp: str = typer.Argument(
        ..., help="Input: .jsonl, .json, .parquet, a save_to_disk directory or a hub id."
    ),
    tokenizer: str = typer.Option(
        None,
        "--tokenizer",
        help="Count trace tokens with 'builtin' or a local HF tokenizer dir (default: chars).",
    ),
    from_: str = typer.Option("auto", "--from", help=_FROM_HELP),
    map_: str = typer.Option(None, "--map", help=_MAP_HELP),
    split: str = typer.Option("train", "--split", help=_SPLIT_HELP),
    batch_size: int = typer.Option(256, "--batch-size", help="Traces tokenized per batch."),
) -> None:
    """Counts by domain and format, and the trace length distribution (min/p50/p90/max/mean)."""
    from rich.table import Table

    from reasonsift.data import stats as st

    with user_errors():
        if batch_size < 1:
            raise ValueError(f"--batch-size: expected >= 1, got {batch_size}")
        r = _read_all(inp, from_, map_, split, f"reading {inp}")
        exs = r.examples
        if not exs:  # statistics of nothing would read as a valid, empty dataset
            _print_problems(r.problems)
            raise ValueError(f"{inp}: all {r.n_read} records were rejected; no statistics")
        if tokenizer is None:
            unit, lengths = "chars", [len(ex.trace) for ex in exs]
        else:
            count = st.token_counter(st.load_tokenizer(tokenizer))
            unit, lengths = "tokens", []
            with progress() as bar:
                task = bar.add_task("tokenizing traces", total=len(exs))
                for i in range(0, len(exs), batch_size):
                    chunk = exs[i : i + batch_size]
                    lengths += count([ex.trace for ex in chunk])
                    bar.advance(task, len(chunk))
    out.print(
        f"{inp}: {r.format} ({r.container}), {len(exs)} examples"
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
