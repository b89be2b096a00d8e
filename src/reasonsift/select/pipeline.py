"""``reasonsift select``: run a recipe's stages over a pool of examples and write an explained selection.

One run directory (docs/run-contract.md, docs/select.md)::

    OUT/
      config.json, manifest.json   the run contract (inputs: the data file, the profile and eval runs = parents,
                                   the recipe file; resolved: the recipe's stages with their final parameters)
      selected.parquet             kept Examples (native layout, meta as JSON text) + the columns the stages
                                   used or computed + reason_kept
      dropped.parquet              dropped Examples + the same columns + stage + reason
      stages.json                  per stage: in, kept, dropped (and the totals: read = kept + dropped)
      card.md, card.html, card/    the data card: distributions before/after, per-stage counts, plots

Each stage sees the records kept so far and returns one Decision per record; every drop is recorded with
the stage and its reason. Each stage draws from its own ``random.Random`` seeded by ``(seed, position,
name)``, so editing one stage of a recipe does not change another's draws.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa

from reasonsift.data.example import FIELDS
from reasonsift.data.writers import META_ENCODING_KEY
from reasonsift.run import RunDir, StageConfig, build_manifest, input_record, run_record
from reasonsift.select import join as J
from reasonsift.select.base import EVAL_COLUMNS, PROFILE_COLUMNS, Stage, run_for_column
from reasonsift.select.card import write_card
from reasonsift.select.recipe import apply_budget, build_stages, load_recipe, recipe_path

OUTPUTS = ("selected.parquet", "dropped.parquet", "stages.json", "card.md", "card.html", "card")
REASON_KEPT, STAGE, REASON = "reason_kept", "stage", "reason"


@dataclass
class SelectConfig(StageConfig):
    data: str = ""  # pool of examples: JSONL, JSON, Parquet, dataset dir (reasonsift.data.io.read_examples)
    out_dir: str = ""
    recipe: str = "s1"  # a shipped recipe (s1, limo, ifd, forking, random) or a FILE.yaml
    profile: str | None = None  # profile run dir: IFD, entropy and forking columns by id
    eval: str | None = None  # eval run dir: the student's solve_rate, n, correct by id
    split: str = "train"  # of a Hugging Face dataset directory or hub id given as data
    budget: int | None = None  # sets n of the recipe's sizing stages (budget, random, diversity)
    tokens: int | None = None  # sets tokens of the recipe's budget stage (fill to T tokens)
    seed: int = 0  # every random choice of every stage
    # The student whose mean last hidden states embed each example (question + completion) for a diversity
    # stage in coverage mode (column `embedding`); loaded only when a stage needs it.
    embed_model: str | None = None
    resume: bool = False
    overwrite: bool = False

    RUNTIME_ONLY: ClassVar[tuple[str, ...]] = ("resume", "overwrite")

    def __post_init__(self) -> None:
        if not self.data:
            raise ValueError("data: no data file given")
        if not self.out_dir:
            raise ValueError("out_dir: no output directory given")
        if not self.recipe:
            raise ValueError("recipe: no recipe given")
        for name in ("budget", "tokens"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"{name}: expected >= 1, got {v}")
        for name in ("profile", "eval"):
            v = getattr(self, name)
            if v is not None and not Path(v).is_dir():
                raise ValueError(f"{name}: {v} is not a run directory")


@dataclass
class SelectResult:
    out_dir: Path
    n_read: int
    n_kept: int
    n_dropped: int
    stages: list[dict]
    seconds: dict[str, float]  # wall time of each phase: read, join, stages, write, card (not in the outputs)


def check_needs(stages: list[Stage], available: set[str]) -> None:
    """Stop before running if a stage needs a column that a run not given provides (name the stage, column
    and run). A column no run provides must come from an earlier stage (``chain_score``): checked when the
    stage is reached (:func:`run_stages`)."""
    for i, st in enumerate(stages):
        for col in getattr(st, "needs", ()):
            run = run_for_column(col)
            if col in available or run is None:
                continue
            kind = run.lstrip("-")
            raise ValueError(
                f"{kind}: stage {i + 1} ({st.name}) needs column {col!r}, which "
                f"{'an' if kind == 'eval' else 'a'} {kind} run provides; pass {run} RUN"
            )


def _embed(records: list[dict], stages: list[Stage], cfg: SelectConfig) -> None:
    """Fill the ``embedding`` column with ``--embed-model``'s mean hidden states of each rendered example."""
    i, st = next((i, st) for i, st in enumerate(stages) if "embedding" in st.needs)
    if not cfg.embed_model:
        raise ValueError(
            f"embed_model: stage {i + 1} ({st.name}) needs column 'embedding'; pass --embed-model MODEL (the "
            "student whose mean hidden states embed each example)"
        )
    from reasonsift.data.example import Example
    from reasonsift.data.render import completion_text, prompt_text
    from reasonsift.models import load
    from reasonsift.select.embed import mean_hidden_states

    model, tok = load(cfg.embed_model)
    exs = [Example.from_dict(r) for r in records]
    texts = [f"{prompt_text(e)}\n{completion_text(e)}" for e in exs]
    for r, v in zip(records, mean_hidden_states(model, tok, texts), strict=True):
        r["embedding"] = v.tolist()


def run_stages(records: list[dict], stages: list[Stage], seed: int) -> tuple[list[dict], list[dict], list]:
    """Run ``stages`` in order. Returns (kept, dropped, counts); kept records carry ``reason_kept``, dropped
    ones ``stage`` and ``reason``; values a stage computed are added to the record."""
    kept, dropped, counts = list(records), [], []
    reasons: dict[int, list[str]] = {id(r): [] for r in records}
    for i, st in enumerate(stages):
        rng = random.Random(f"{seed}:{i}:{st.name}")
        for col in getattr(st, "needs", ()):
            if kept and col not in kept[0]:
                raise ValueError(
                    f"recipe: stage {i + 1} ({st.name}) needs column {col!r}, which no run and no earlier "
                    "stage provides"
                )
        decisions = st.run(kept, rng)
        if len(decisions) != len(kept):
            raise RuntimeError(f"stage {st.name}: {len(decisions)} decisions for {len(kept)} records")
        nxt = []
        for r, d in zip(kept, decisions, strict=True):
            if clash := set(d.columns) & {*FIELDS, STAGE, REASON, REASON_KEPT}:
                raise RuntimeError(
                    f"stage {st.name}: computed column(s) {sorted(clash)} would overwrite a field"
                )
            r.update(d.columns)
            if d.keep:
                reasons[id(r)].append(f"{st.name}: {d.reason}")
                nxt.append(r)
            else:
                dropped.append({**r, STAGE: st.name, REASON: d.reason})
        counts.append({"stage": st.name, "in": len(kept), "kept": len(nxt), "dropped": len(kept) - len(nxt)})
        kept = nxt
    for r in kept:
        r[REASON_KEPT] = "; ".join(reasons[id(r)]) or "no stage dropped it"
    if len(records) != len(kept) + len(dropped):  # the invariant every output rests on; never expected
        raise AssertionError(f"read {len(records)} != kept {len(kept)} + dropped {len(dropped)}")
    return kept, dropped, counts


def main(cfg: SelectConfig) -> SelectResult:
    """Read the pool, join the runs, run the recipe, write OUT (see the module docstring)."""
    from reasonsift.data.io import read_examples

    run = RunDir(cfg.out_dir, stage="select", outputs=OUTPUTS)
    run.check(run_record("select", cfg), resume=cfg.resume, overwrite=cfg.overwrite)
    specs = apply_budget(load_recipe(cfg.recipe), cfg.budget, cfg.tokens)
    stages = build_stages(specs)

    clock = _Clock()
    examples = read_examples(cfg.data, split=cfg.split).examples
    clock.lap("read")
    records = [ex.to_dict() for ex in examples]
    available, joined = set(FIELDS), []
    found: dict[str, int] = {}
    if cfg.profile:
        found["profile"] = J.join(records, J.read_profile(cfg.profile), PROFILE_COLUMNS)
        available |= set(PROFILE_COLUMNS)
        joined += PROFILE_COLUMNS
    if cfg.eval:
        found["eval"] = J.join(records, J.read_eval(cfg.eval), EVAL_COLUMNS)
        available |= set(EVAL_COLUMNS)
        joined += EVAL_COLUMNS
    if any("embedding" in st.needs for st in stages):
        _embed(records, stages, cfg)
        available.add("embedding")
    check_needs(stages, available)
    clock.lap("join")

    inputs = {"data": input_record(cfg.data)}
    for name in ("profile", "eval"):
        if getattr(cfg, name):
            inputs[name] = input_record(getattr(cfg, name))
    recipe_file = recipe_path(cfg.recipe)
    inputs["recipe"] = input_record(recipe_file)  # a shipped or a user's file: its hash is in the manifest
    resolved = {"recipe_stages": [{"stage": s.name, **s.params} for s in specs]}
    record = run_record("select", cfg, inputs, resolved)
    run.begin(record, resume=cfg.resume, overwrite=cfg.overwrite)

    before = [dict(r) for r in records]
    kept, dropped, counts = run_stages(records, stages, cfg.seed)
    clock.lap("stages")

    used = [c for c in joined if any(c in st.needs for st in stages)]
    computed = list(dict.fromkeys(k for r in [*kept, *dropped] for k in r if k not in available))
    computed = [c for c in computed if c not in (STAGE, REASON, REASON_KEPT)]
    extra = used + computed
    _write(run.root / "selected.parquet", kept, [*extra, REASON_KEPT])
    _write(run.root / "dropped.parquet", dropped, [*extra, STAGE, REASON])
    totals = {"read": len(records), "kept": len(kept), "dropped": len(dropped)}
    run.write_json("stages.json", {"stages": counts, **totals, "joined": found, "recipe": str(recipe_file)})

    title = f"select: {Path(cfg.data).name}, recipe {cfg.recipe}"
    clock.lap("write")
    write_card(
        run.root,
        before,
        kept,
        counts,
        title=title,
        recipe=_show(specs),
        seed=cfg.seed,
        **_joined(found, len(records)),
    )
    clock.lap("card")
    manifest = build_manifest(
        "select", cfg.to_dict(), inputs=list(inputs.values()), resolved=resolved, result={**totals}
    )
    run.write_json("manifest.json", manifest)
    return SelectResult(run.root, len(records), len(kept), len(dropped), counts, clock.seconds)


class _Clock:
    def __init__(self) -> None:
        self.t, self.seconds = time.perf_counter(), {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = now - self.t
        self.t = now


def _joined(found: dict[str, int], n: int) -> dict[str, str]:
    """``{"profile run": "16 of 16 ids"}``: a run made from other data shows up as few ids."""
    return {f"{k} run": f"{v} of {n} ids" for k, v in found.items()}


def _show(specs: list) -> str:
    """``quality -> ifd(max=1.0, fraction=0.1) -> budget(n=100)``"""
    return " -> ".join(
        s.name + (f"({', '.join(f'{k}={v}' for k, v in s.params.items())})" if s.params else "")
        for s in specs
    )


def _write(path: Path, rows: list[dict], extra: list[str]) -> None:
    """Examples in the native Parquet layout (meta as JSON text), then ``extra`` columns (types inferred)."""
    from reasonsift.utils.io import atomic_path

    fields = [(k, pa.list_(pa.string()) if k == "choices" else pa.string()) for k in FIELDS]
    arrays = []
    for k, t in fields:
        vals = [r.get(k) for r in rows]
        if k == "meta":
            vals = [json.dumps(v or {}, ensure_ascii=False, sort_keys=True, default=str) for v in vals]
        arrays.append(pa.array(vals, type=t))
    names = [k for k, _ in fields]
    for c in extra:
        arrays.append(_column([r.get(c) for r in rows]))
        names.append(c)
    table = pa.Table.from_arrays(arrays, names=names).replace_schema_metadata({META_ENCODING_KEY: b"json"})
    import pyarrow.parquet as pq

    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def _column(values: list[Any]) -> pa.Array:
    """A column of values as pyarrow infers them; mixed types fall back to JSON text."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else json.dumps(v, default=str) for v in values], type=pa.string())
