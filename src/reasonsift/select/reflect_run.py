"""``reasonsift select reflect ORIGINAL REFINED --model M -o OUT``: the selective-reflection rule as a run.

Pairs the original (Q, A) and the teacher-refined (Q*, A*) records by id, scores both with the student
(:func:`reasonsift.select.reflect.reflect_pairs`, CLAIMS.md C7) and writes, on the run contract::

    OUT/
      pairs.parquet      one row per pair: id, choice, branch, reason (the four numbers that decided it), and the
                         six numbers ifd_q, ifd_qstar, rifd_qstar_astar, rifd_qstar_a, rifd_q_astar, rifd_q_a
      selected.parquet   the chosen version of each pair not dropped: (Q*, A*) for ``refined``, (Q, A*) for
                         ``original_q_refined_a`` (native Example layout + choice, branch, reason)
      config.json, manifest.json
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pyarrow as pa

from reasonsift.data.example import FIELDS, Example
from reasonsift.run import RunDir, StageConfig, build_manifest, input_record, model_identity, run_record

OUTPUTS = ("pairs.parquet", "selected.parquet")


@dataclass
class ReflectConfig(StageConfig):
    original: str = ""  # original (Q, A) examples
    refined: str = ""  # teacher-refined (Q*, A*) examples, same ids
    model: str = ""  # the student that scores both
    out_dir: str = ""
    split: str = "train"
    device: str = "auto"
    dtype: str = "auto"
    trust_remote_code: bool = False
    allow_pickle: bool = False
    resume: bool = False
    overwrite: bool = False

    RUNTIME_ONLY: ClassVar[tuple[str, ...]] = (
        "resume", "overwrite", "device", "trust_remote_code", "allow_pickle",
    )  # fmt: skip

    def __post_init__(self) -> None:
        for name in ("original", "refined", "model", "out_dir"):
            if not getattr(self, name):
                raise ValueError(f"{name}: not given")


def main(cfg: ReflectConfig, model=None) -> dict:
    """Score, choose and write; ``model`` may be an in-process ``(model, tokenizer)``. Returns the counts."""
    from reasonsift.data.io import read_examples
    from reasonsift.data.writers import native_table
    from reasonsift.select.reflect import DROPPED, ORIGINAL_Q_REFINED_A, REFINED, reflect_pairs
    from reasonsift.utils.io import atomic_path

    run = RunDir(cfg.out_dir, stage="select-reflect", outputs=OUTPUTS)
    run.check(run_record("select-reflect", cfg), resume=cfg.resume, overwrite=cfg.overwrite)
    orig = read_examples(cfg.original, split=cfg.split).examples
    ref = read_examples(cfg.refined, split=cfg.split).examples
    if model is None:
        from reasonsift.models.load import load_with

        model = load_with(cfg)
    lm, tok = model
    inputs = {"original": input_record(cfg.original), "refined": input_record(cfg.refined)}
    run.begin(run_record("select-reflect", cfg, inputs), resume=cfg.resume, overwrite=cfg.overwrite)

    rows = reflect_pairs(orig, ref, lm, tok)  # pairs by id (ValueError naming unpaired ids)
    import pyarrow.parquet as pq

    pairs = [{k: v for k, v in row.items() if k not in FIELDS or k == "id"} for row in rows]
    with atomic_path(run.root / "pairs.parquet") as tmp:
        pq.write_table(pa.Table.from_pylist(pairs), tmp)
    kept = [row for row in rows if row["choice"] != DROPPED]
    table = native_table([Example.from_dict(row) for row in kept])
    for col in ("choice", "branch", "reason"):
        table = table.append_column(col, pa.array([row[col] for row in kept], type=pa.string()))
    with atomic_path(run.root / "selected.parquet") as tmp:
        pq.write_table(table, tmp)
    result = {
        "pairs": len(rows),
        **{c: sum(row["choice"] == c for row in rows) for c in (REFINED, ORIGINAL_Q_REFINED_A, DROPPED)},
    }
    manifest = build_manifest(
        "select-reflect", cfg.to_dict(), models={"student": model_identity(lm, cfg.model, None)},
        inputs=list(inputs.values()), result=result,
    )  # fmt: skip
    run.write_json("manifest.json", manifest)
    return result
