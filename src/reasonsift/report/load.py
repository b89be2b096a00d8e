"""Read a profile run directory (layout: ``docs/profile-schema.md``) for the viewer.

Only shards with a ``.done`` marker are read, in name order, so a run that is still being written (or crashed
mid-shard) shows what is complete and nothing half-written. Optional columns may be absent. What such a run
lacks (unfinished or missing shards, no ``stats.json``, counts that disagree) is listed in
``RunData.incomplete``, so that neither the CLI nor the page presents part of a run as all of it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from reasonsift.profile import schema as S

# Column names come from the profile's schema module (reasonsift.profile.schema), the one place they are spelled.
# Per-token columns the viewer draws; everything else it reads is a per-example scalar or a short list.
TOKEN_COLUMNS = (
    S.TOKENS, S.ENTROPY, S.LOGPROB, S.RANK, S.TOP_TOKENS, S.TOP_LOGPROBS, S.SEGMENT, S.STEP, S.FORKING_SEQUENCE,
)  # fmt: skip
TEXT_COLUMNS = (S.ID, "domain", "format", "question", "trace", "answer")
CURVE_COLUMNS = (S.IG_NLL, S.IG_GAINS)
# Scores offered in the example list, in display order (those absent from a run are dropped).
SCORE_COLUMNS = (
    S.N_TOKENS, S.H_MEAN, S.IFD, S.R_IFD, S.INFO_GAIN, S.IG_TOTAL, S.FRAC_H_LOW, S.TOP20_MASS,
    S.H_P50, S.H_P90, S.H_P99, S.POSTHOC,
)  # fmt: skip
REQUIRED_COLUMNS = (S.ID, S.TOKENS, S.ENTROPY)
# Token ids are not shown (the decoded strings are); skipping them saves most of the conversion time.
UNUSED_COLUMNS = frozenset({S.INPUT_IDS, S.TOKEN_IDS, S.TOP_IDS})


@dataclass
class RunData:
    """What the viewer needs from a run: the first ``max_examples`` rows in full, scores of all rows."""

    run_dir: Path
    rows: list[dict[str, Any]]  # full rows (token columns included) of the shown examples
    scores: dict[str, list[Any]]  # score column -> values over ALL examples (for the dataset plots)
    entropy_all: list[np.ndarray]  # per-example entropies (float32) over ALL examples
    n_examples: int
    stats: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    # id -> {pool name -> mask} for the pools that span examples (forking.parquet: dataset, batch)
    forking: dict[str, dict[str, list[bool]]] = field(default_factory=dict)
    n_rejects: int = 0
    shards: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)  # why this is not the whole run; empty when it is


def _pool_masks(path: Path, stats: dict[str, Any]) -> dict[str, dict[str, list[bool]]]:
    """Per id, each cross-example pool's mask, named by its pool (runs before the per-pool columns had only
    ``forking``, the ``--pool`` mask: it is named by ``stats.json``'s ``forking_pool``)."""
    if not path.exists():
        return {}
    table = pq.read_table(path)
    names = set(table.column_names)
    cols = {p: c for p, c in (("dataset", S.FORKING_DATASET), ("batch", S.FORKING_BATCH)) if c in names}
    if not cols and S.FORKING in names:
        cols = {str(stats.get("forking_pool") or "dataset"): S.FORKING}
    if S.ID not in names or not cols:
        return {}
    ids = table.column(S.ID).to_pylist()
    per_pool = {p: table.column(c).to_pylist() for p, c in cols.items()}
    return {str(i): {p: m[k] for p, m in per_pool.items() if m[k] is not None} for k, i in enumerate(ids)}


def done_shards(run_dir: Path) -> list[Path]:
    """``examples/part-*.parquet`` files that have a matching completion marker, in name order.

    The profiler writes ``_part-NNNNN.done`` (the ``_`` prefix makes pandas/pyarrow skip it when reading the
    folder as a dataset); ``part-NNNNN.done`` is accepted too.
    """
    ex_dir = run_dir / "examples"
    if not ex_dir.is_dir():
        raise FileNotFoundError(f"{run_dir}: no examples/ directory (is this a profile run directory?)")
    return [
        p
        for p in sorted(ex_dir.glob("part-*.parquet"))
        if (ex_dir / f"_{p.stem}.done").exists() or p.with_suffix(".done").exists()
    ]


def _shard_index(name: str) -> int | None:
    m = re.fullmatch(r"_?part-(\d+)\.(?:parquet|done)", name)
    return int(m.group(1)) if m else None


def incompleteness(run_dir: Path, done: list[Path], n_rows: int, stats: dict[str, Any]) -> list[str]:
    """Why the completed shards of ``run_dir`` are not the whole run, one sentence each ([] when they are).

    A run is whole when every shard has its marker, shard numbers have no gaps, ``stats.json`` (written
    after the last shard) exists, and its ``n_profiled`` equals the rows read.
    """
    ex_dir = run_dir / "examples"
    notes: list[str] = []
    all_parts = sorted(ex_dir.glob("part-*.parquet"))
    finished = set(done)
    unfinished = [p.name for p in all_parts if p not in finished]
    if unfinished:
        shown = ", ".join(unfinished[:5]) + (
            f" and {len(unfinished) - 5} more" if len(unfinished) > 5 else ""
        )
        notes.append(
            f"{len(unfinished)} of {len(all_parts)} shards have no completion marker ({shown}); "
            "their examples are not shown"
        )
    markers = {i for p in ex_dir.glob("*.done") if (i := _shard_index(p.name)) is not None}
    parts = {i for p in all_parts if (i := _shard_index(p.name)) is not None}
    orphan = sorted(markers - parts)
    if orphan:
        notes.append(f"{len(orphan)} completion marker(s) without their shard (part-{orphan[0]:05d}.parquet)")
    known = markers | parts
    gaps = sorted(set(range(max(known) + 1)) - known) if known else []
    if gaps:
        notes.append(f"{len(gaps)} shard(s) missing from the numbering (first: part-{gaps[0]:05d}.parquet)")
    if not (run_dir / "stats.json").exists():
        notes.append(
            "no stats.json: the run did not finish, so dataset statistics, the forking threshold and "
            "rejects may be missing; finish it with `reasonsift profile --resume`"
        )
    elif isinstance(stats.get("n_profiled"), int) and stats["n_profiled"] != n_rows:
        notes.append(
            f"stats.json counts {stats['n_profiled']} profiled examples but the completed shards hold {n_rows}"
        )
    return notes


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}:{e.lineno}: invalid JSON: {e.msg}") from None
    return data if isinstance(data, dict) else {}


def _count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, encoding="utf-8") as fh:
        return sum(1 for line in fh if line.strip())


def _iter_shard_rows(shard: Path, full_rows_left: int) -> Iterator[tuple[dict[str, Any], bool]]:
    """Yield ``(row, full)``: the first ``full_rows_left`` rows with every column, the rest scores only."""
    pf = pq.ParquetFile(shard)
    names = set(pf.schema_arrow.names)
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise ValueError(f"{shard}: missing required column(s) {', '.join(missing)}")
    light = [c for c in (*SCORE_COLUMNS, "id", "entropy") if c in names]
    full = [c for c in pf.schema_arrow.names if c not in UNUSED_COLUMNS]
    for batch in pf.iter_batches(batch_size=256):
        n = batch.num_rows
        take_full = max(0, min(n, full_rows_left))
        if take_full:
            for row in batch.slice(0, take_full).select(full).to_pylist():
                yield row, True
            full_rows_left -= take_full
        if take_full < n:
            rest = batch.slice(take_full).select(light)
            for row in rest.to_pylist():
                yield row, False


def load_run(
    run_dir: str | Path,
    max_examples: int | None = None,
    on_shard: Callable[[int, int], None] | None = None,
) -> RunData:
    """Read ``run_dir``; keep full rows for the first ``max_examples`` examples (all when None)."""
    run_dir = Path(run_dir)
    if max_examples is not None and max_examples < 0:
        raise ValueError(f"max_examples: must be >= 0, got {max_examples}")
    if not run_dir.is_dir():
        raise FileNotFoundError(f"{run_dir}: run directory not found")
    shards = done_shards(run_dir)
    if not shards:
        raise ValueError(f"{run_dir / 'examples'}: no completed shards (part-*.parquet with a .done marker)")
    limit = max_examples if max_examples is not None else float("inf")
    rows: list[dict[str, Any]] = []
    scores: dict[str, list[Any]] = {c: [] for c in SCORE_COLUMNS}
    present: set[str] = set()
    entropy_all: list[np.ndarray] = []
    n = 0
    for k, shard in enumerate(shards):
        for row, full in _iter_shard_rows(shard, int(min(limit - len(rows), 1 << 62))):
            n += 1
            if full:
                rows.append(row)
            entropy_all.append(np.asarray(row.get("entropy") or [], dtype=np.float32))
            for c in SCORE_COLUMNS:
                v = row.get(c)
                if c == "n_tokens" and v is None:
                    v = len(row.get("entropy") or [])
                scores[c].append(v)
                if c in row:
                    present.add(c)
        if on_shard is not None:
            on_shard(k + 1, len(shards))
    present.add("n_tokens")
    stats = _read_json(run_dir / "stats.json")
    forking = _pool_masks(run_dir / "forking.parquet", stats)
    return RunData(
        run_dir=run_dir,
        rows=rows,
        scores={c: v for c, v in scores.items() if c in present},
        entropy_all=entropy_all,
        n_examples=n,
        stats=stats,
        manifest=_read_json(run_dir / "manifest.json"),
        forking=forking,
        n_rejects=_count_lines(run_dir / "rejects.jsonl"),
        shards=[p.name for p in shards],
        incomplete=incompleteness(run_dir, shards, n, stats),
    )
