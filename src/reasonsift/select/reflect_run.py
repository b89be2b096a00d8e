"""``reasonsift select reflect ORIGINAL REFINED --model M -o OUT``: the selective-reflection rule as a run.

Pairs the original (Q, A) and the teacher-refined (Q*, A*) records by id, scores both with the student
(:func:`reasonsift.select.reflect.reflect_pairs`, CLAIMS.md C7) and writes, on the run contract::

    OUT/
      pairs.parquet      one row per pair: id, the rule's choice and branch, the four numbers that decided it
      selected.parquet   the chosen version of each pair (native Example layout + choice + branch)
      config.json, manifest.json
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pyarrow as pa

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


def pair_by_id(original: list, refined: list) -> tuple[list, list]:
    """The examples of both files in the original's order, matched by id; ``ValueError`` naming the ids
    that one side lacks."""
    by_id = {ex.id: ex for ex in refined}
    missing = [ex.id for ex in original if ex.id not in by_id]
    extra = sorted(set(by_id) - {ex.id for ex in original})
    if missing or extra:
        raise ValueError(
            f"refined: ids must match the original's; missing {missing[:5]}{'...' if len(missing) > 5 else ''}, "
            f"extra {extra[:5]}{'...' if len(extra) > 5 else ''}"
        )
    return original, [by_id[ex.id] for ex in original]


def main(cfg: ReflectConfig, model=None) -> dict:
    """Score, choose and write; ``model`` may be an in-process ``(model, tokenizer)``. Returns the counts."""
    from reasonsift.data.io import read_examples
    from reasonsift.data.writers import native_table
    from reasonsift.select.reflect import reflect_pairs
    from reasonsift.utils.io import atomic_path

    run = RunDir(cfg.out_dir, stage="select-reflect", outputs=OUTPUTS)
    run.check(run_record("select-reflect", cfg), resume=cfg.resume, overwrite=cfg.overwrite)
    orig, ref = pair_by_id(
        read_examples(cfg.original, split=cfg.split).examples,
        read_examples(cfg.refined, split=cfg.split).examples,
    )
    if model is None:
        from reasonsift.models import load

        model = load(
            cfg.model, dtype=cfg.dtype, device=cfg.device, trust_remote_code=cfg.trust_remote_code,
            allow_pickle=cfg.allow_pickle,
        )  # fmt: skip
    lm, tok = model
    inputs = {"original": input_record(cfg.original), "refined": input_record(cfg.refined)}
    run.begin(run_record("select-reflect", cfg, inputs), resume=cfg.resume, overwrite=cfg.overwrite)

    rows = reflect_pairs(orig, ref, lm, tok)
    chosen = [r if row["choice"] == "refined" else o for o, r, row in zip(orig, ref, rows, strict=True)]
    import pyarrow.parquet as pq

    with atomic_path(run.root / "pairs.parquet") as tmp:
        pq.write_table(pa.Table.from_pylist(rows), tmp)
    table = native_table(chosen)
    for col in ("choice", "branch"):
        table = table.append_column(col, pa.array([str(row[col]) for row in rows], type=pa.string()))
    with atomic_path(run.root / "selected.parquet") as tmp:
        pq.write_table(table, tmp)
    n_ref = sum(row["choice"] == "refined" for row in rows)
    result = {"pairs": len(rows), "refined": n_ref, "original": len(rows) - n_ref}
    manifest = build_manifest(
        "select-reflect", cfg.to_dict(), models={"student": model_identity(lm, cfg.model, None)},
        inputs=list(inputs.values()), result=result,
    )  # fmt: skip
    run.write_json("manifest.json", manifest)
    return result
