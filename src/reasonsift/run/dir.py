"""``RunDir``: one run directory — create / ``--overwrite`` / ``--resume``, atomic shards, markers, rejects.

Layout (docs/run-contract.md)::

    RUN/
      config.json            the resolved config + input hashes + resolved facts (what --resume compares)
      manifest.json          written last by the stage (reasonsift.run.manifest)
      <shards>/part-NNNNN.parquet, _part-NNNNN.rejects.jsonl, _part-NNNNN.done   (the marker last)
      rejects.jsonl          every record not carried forward, with its reason

Starting a run is two calls so that a start that fails (missing data, a model that will not load) leaves
nothing behind: ``check(record, ...)`` before any expensive work, ``begin(record, ...)`` once start-up passed.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from reasonsift.utils.io import atomic_path, atomic_write_text, json_safe

CONFIG_FILE = "config.json"
MANIFEST_FILE = "manifest.json"
REJECTS_FILE = "rejects.jsonl"


def shard_name(i: int) -> str:
    return f"part-{i:05d}"


def run_record(
    stage: str, cfg: Any, inputs: dict[str, dict] | None = None, resolved: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What ``config.json`` holds and ``--resume`` compares: the stage's config (a ``StageConfig``), the
    hashes of its inputs (``{option: input_record(...)}``) and facts resolved at start-up (e.g. the dtype
    ``auto`` became). Fields in ``cfg.RUNTIME_ONLY`` are recorded but may differ on resume."""
    return {
        "stage": stage,
        "config": cfg.to_dict(),
        "runtime_only": sorted(getattr(cfg, "RUNTIME_ONLY", ())),
        "inputs": inputs or {},
        "resolved": resolved or {},
    }


def option_name(name: str) -> str:
    """The command-line spelling of config field ``name``: ``batch_size`` -> ``--batch-size``."""
    return "--" + name.replace("_", "-")


class RunDir:
    """A stage's run directory. ``outputs`` are the glob patterns ``--overwrite`` removes (besides the
    config, the manifest, the shards and the rejects); ``schema`` is the shards' Parquet schema."""

    schema: pa.Schema | None = None

    def __init__(
        self,
        root: str | Path,
        *,
        stage: str = "",
        shards: str = "examples",
        outputs: Iterable[str] = (),
        config_file: str = CONFIG_FILE,
    ):
        self.root = Path(root)
        self.stage = stage
        self.examples = self.root / shards
        self.outputs = tuple(outputs)
        self.config_path = self.root / config_file

    # -- create / overwrite / resume --------------------------------------------------------------------

    def exists(self) -> bool:
        return self.config_path.is_file()

    def check(self, record: dict[str, Any], *, resume: bool, overwrite: bool) -> None:
        """Raise ``ValueError`` naming the option if this run may not start: the directory holds a run and
        neither flag is given, or ``resume`` and the recorded config, input hashes or resolved facts differ.
        Call it early with what is known (it compares only the keys ``record`` has) and again when complete."""
        if resume and overwrite:
            raise ValueError("resume: --resume and --overwrite exclude each other")
        if not self.exists():
            return
        if overwrite:
            return
        what = f"a {self.stage} run" if self.stage else "a run"
        if not resume:
            raise ValueError(f"out_dir: {self.root} already holds {what}; use --resume or --overwrite")
        self._compare(self.read_record(), record)

    def begin(self, record: dict[str, Any], *, resume: bool, overwrite: bool) -> None:
        """Start-up passed: clear an overwritten run, then write the config (kept as it is on resume)."""
        self.check(record, resume=resume, overwrite=overwrite)
        if self.exists() and resume:
            (self.root / MANIFEST_FILE).unlink(missing_ok=True)  # the run is unfinished again until it ends
            return
        if overwrite:
            self.clear()
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.config_path, json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")

    def clear(self) -> None:
        """Remove what a previous run of this stage wrote (nothing else in the directory)."""
        shutil.rmtree(self.examples, ignore_errors=True)
        for name in (self.config_path.name, MANIFEST_FILE, REJECTS_FILE):
            (self.root / name).unlink(missing_ok=True)
        for pattern in self.outputs:
            for p in self.root.glob(pattern):
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)

    def read_record(self) -> dict[str, Any]:
        rec = json.loads(self.config_path.read_text(encoding="utf-8"))
        return rec if "config" in rec else {"config": rec}  # runs written before the record had sections

    def _compare(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        where = f"the run in {self.root}"
        cfg_old, cfg_new = old.get("config", {}), new.get("config", {})
        runtime = set(new.get("runtime_only", ()))
        for k in sorted(cfg_new):
            if k not in runtime and k in cfg_old and cfg_old[k] != cfg_new[k]:
                raise ValueError(
                    f"{k}: differs from {where} ({cfg_old[k]!r} there, {cfg_new[k]!r} now); "
                    "resume needs the same options (or use --overwrite)"
                )
        ins_old, ins_new = old.get("inputs", {}), new.get("inputs", {})
        for k in sorted(ins_new):
            a, b = (ins_old.get(k) or {}).get("sha256"), (ins_new[k] or {}).get("sha256")
            if k in ins_old and a != b:
                raise ValueError(
                    f"{k}: {ins_new[k].get('path') or 'the input'} is not the data {where} was made from "
                    f"(sha256 {str(a)[:12]} there, {str(b)[:12]} now); resume needs the same data "
                    "(or use --overwrite)"
                )
        res_old, res_new = old.get("resolved", {}), new.get("resolved", {})
        for k in sorted(res_new):
            if k in res_old and res_old[k] != res_new[k]:
                fix = f"pass {option_name(k)} {res_old[k]}" if k in cfg_new else "run it on the same device"
                raise ValueError(
                    f"{k}: resolves to {res_new[k]!r} now but was {res_old[k]!r} in {where}; "
                    f"{fix} to resume it (or use --overwrite)"
                )

    # -- shards ------------------------------------------------------------------------------------------

    def parquet(self, i: int) -> Path:
        return self.examples / f"{shard_name(i)}.parquet"

    def marker(self, i: int) -> Path:
        return self.examples / f"_{shard_name(i)}.done"

    def shard_rejects(self, i: int) -> Path:
        return self.examples / f"_{shard_name(i)}.rejects.jsonl"

    def is_done(self, i: int) -> bool:
        return self.marker(i).exists() and self.parquet(i).exists()

    def done_info(self, i: int) -> dict[str, Any]:
        return json.loads(self.marker(i).read_text())

    def write_shard(
        self, i: int, rows: list[dict], rejects: list[dict], info: dict, schema: pa.Schema | None = None
    ) -> None:
        """Parquet, then rejects, then the marker last: a shard counts only once all three are on disk.
        Markers start with ``_`` so that readers of the folder (pandas, pyarrow, DuckDB globs) skip them.
        Every reject carries a non-empty ``reason``."""
        for r in rejects:
            if not r.get("reason"):
                raise ValueError(f"rejects: every rejected record needs a reason, got {r!r}")
        table = pa.Table.from_pylist(rows, schema=schema or self.schema)
        with atomic_path(self.parquet(i)) as tmp:
            pq.write_table(table, tmp)
        atomic_write_text(self.shard_rejects(i), "".join(json.dumps(r) + "\n" for r in rejects))
        atomic_write_text(self.marker(i), json.dumps(info, sort_keys=True))

    def collect_rejects(self, n_shards: int) -> int:
        """Concatenate the shards' rejects into ``rejects.jsonl`` (shard order); return how many."""
        text = "".join(self.shard_rejects(i).read_text() for i in range(n_shards))
        atomic_write_text(self.root / REJECTS_FILE, text)
        return text.count("\n")

    def shard_paths(self) -> list[Path]:
        return sorted(self.examples.glob("part-*.parquet"))

    def read(self, columns: list[str] | None = None) -> pa.Table:
        paths = self.shard_paths()
        if not paths:
            if self.schema is None:
                raise FileNotFoundError(f"{self.examples}: no shards")
            empty = self.schema.empty_table()
            return empty if columns is None else empty.select(columns)
        return pa.concat_tables([pq.read_table(p, columns=columns) for p in paths])

    # -- single files --------------------------------------------------------------------------------------

    def write_json(self, name: str, obj: Any) -> None:
        """Strict JSON: non-finite floats become null."""
        text = json.dumps(json_safe(obj), indent=2, sort_keys=True, default=str, allow_nan=False)
        atomic_write_text(self.root / name, text + "\n")

    def write_table(self, name: str, rows: list[dict], schema: pa.Schema) -> None:
        with atomic_path(self.root / name) as tmp:
            pq.write_table(pa.Table.from_pylist(rows, schema=schema), tmp)
