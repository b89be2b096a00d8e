"""Join a profile run and an eval run onto the examples by id: the columns selection stages read.

A profile run (docs/profile-schema.md) gives ``examples/*.parquet`` (one row per profiled example) and
``forking.parquet``; an eval run (docs/evaluate.md) gives ``questions.parquet``. Two columns are derived here:

- ``forking_share_trace``: forking tokens in the trace (``forking.parquet`` ``forking_trace``, the ``--pool``
  mask) / the trace's scored tokens (``segment == TRACE``); null for an example without trace tokens;
- ``entropy_mass_trace``: the sum of the per-token entropy H (nats) over the trace's tokens.

An id the run does not hold (a profile reject, an eval run on other questions) gets nulls in that run's
columns; a stage that needs one drops the record with a reason.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from reasonsift.profile import schema as S
from reasonsift.select.base import EVAL_COLUMNS, PROFILE_COLUMNS

FORKING_SHARE_TRACE, ENTROPY_MASS_TRACE = "forking_share_trace", "entropy_mass_trace"
DERIVED = (FORKING_SHARE_TRACE, ENTROPY_MASS_TRACE)
QUESTIONS_FILE = "questions.parquet"
FORKING_FILE = "forking.parquet"


def read_profile(run_dir: str | Path, batch_rows: int = 4096) -> dict[str, dict]:
    """id -> the profile columns (:data:`PROFILE_COLUMNS`) of a finished profile run. Shards are read in
    batches of ``batch_rows`` rows, so memory holds one batch's per-token lists, not the run's."""
    root = Path(run_dir)
    parts = sorted((root / "examples").glob("part-*.parquet"))
    if not parts:
        raise FileNotFoundError(f"profile: {root} holds no examples/part-*.parquet (not a profile run)")
    direct = [c for c in PROFILE_COLUMNS if c not in DERIVED]
    forking_trace = _forking_trace(root)
    out: dict[str, dict] = {}
    for part in parts:
        for batch in pq.ParquetFile(part).iter_batches(
            batch_rows, columns=[S.ID, *direct, S.ENTROPY, S.SEGMENT]
        ):
            ids = batch.column(S.ID).to_pylist()
            mass, n_trace = _trace_sums(batch.column(S.ENTROPY), batch.column(S.SEGMENT))
            cols = {c: batch.column(c).to_pylist() for c in direct}
            for i, id_ in enumerate(ids):
                row = {c: cols[c][i] for c in direct}
                row[ENTROPY_MASS_TRACE] = mass[i]
                ft = forking_trace.get(id_)
                row[FORKING_SHARE_TRACE] = ft / n_trace[i] if ft is not None and n_trace[i] else None
                out[id_] = row
    return out


def _trace_sums(entropy: pa.ListArray, segment: pa.ListArray) -> tuple[list[float | None], list[int]]:
    """Per row: sum of H over trace tokens (None when the row has no entropies) and the trace-token count."""
    n = len(entropy)
    if n == 0:
        return [], []
    parents = pc.list_parent_indices(entropy).to_numpy()
    h = pc.list_flatten(entropy).to_numpy(zero_copy_only=False).astype(np.float64)
    seg = pc.list_flatten(segment).to_numpy(zero_copy_only=False)
    trace = seg == S.TRACE
    mass = np.bincount(parents[trace], weights=h[trace], minlength=n)
    count = np.bincount(parents[trace], minlength=n)
    valid = entropy.is_valid().to_numpy(zero_copy_only=False)
    return [float(m) if ok else None for m, ok in zip(mass, valid, strict=True)], count.tolist()


def _forking_trace(root: Path) -> dict[str, int | None]:
    path = root / FORKING_FILE
    if not path.is_file():
        raise FileNotFoundError(f"profile: {root} has no {FORKING_FILE} (an unfinished profile run?)")
    t = pq.read_table(path, columns=[S.ID, "forking_trace"])
    return dict(zip(t[S.ID].to_pylist(), t["forking_trace"].to_pylist(), strict=True))


def read_eval(run_dir: str | Path) -> dict[str, dict]:
    """id -> the eval columns (:data:`EVAL_COLUMNS`: solve_rate, n, correct) of an eval run."""
    path = Path(run_dir) / QUESTIONS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"eval: {run_dir} has no {QUESTIONS_FILE} (not a finished eval run)")
    t = pq.read_table(path, columns=["id", *EVAL_COLUMNS])
    cols = {c: t[c].to_pylist() for c in EVAL_COLUMNS}
    return {id_: {c: cols[c][i] for c in EVAL_COLUMNS} for i, id_ in enumerate(t["id"].to_pylist())}


def join(records: list[dict], by_id: dict[str, dict], columns: tuple[str, ...]) -> int:
    """Add ``columns`` from ``by_id`` to each record in place (nulls for a missing id); return how many
    records the run held."""
    empty = dict.fromkeys(columns)
    found = 0
    for r in records:
        row = by_id.get(r["id"])
        found += row is not None
        r.update(row if row is not None else empty)
    return found
