"""``run_profile(cfg) -> RunResult``: the resumable profiling run the CLI and the demo call."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from reasonsift.data.chunks import Chunk, ChunkPlan, chunkable, plan_chunks, read_chunk
from reasonsift.data.example import Example
from reasonsift.profile.config import ProfileConfig
from reasonsift.profile.render import Renderer
from reasonsift.profile.scoring import Scorer
from reasonsift.profile.shard import Context, profile_shard
from reasonsift.profile.summary import finalize
from reasonsift.profile.writer import RunDir
from reasonsift.run import build_manifest, examples_input, model_identity, run_record

# Tokenizers report a huge sentinel (1e30) when they have no limit.
_NO_LIMIT = 10**8


@dataclass
class RunResult:
    out_dir: Path
    stats: dict
    n_profiled: int
    n_rejected: int

    @property
    def examples_glob(self) -> str:
        return str(self.out_dir / "examples" / "*.parquet")


ModelPair = tuple[torch.nn.Module, object]


def _load(name: str, cfg: ProfileConfig) -> ModelPair:
    from reasonsift.models.load import load_with  # dtype/device "auto": bfloat16 on GPU, float32 on CPU

    return load_with(cfg, name)


def context_length(model, tokenizer, cfg: ProfileConfig) -> int:
    """``--max-length``, else the smaller of ``max_position_embeddings`` and the tokenizer's limit."""
    if cfg.max_length:
        return cfg.max_length
    limits = [getattr(getattr(model, "config", None), "max_position_embeddings", None)]
    limits.append(getattr(tokenizer, "model_max_length", None))
    limits = [int(x) for x in limits if x and x < _NO_LIMIT]
    if not limits:
        raise ValueError("max_length: the model declares no context length; pass --max-length")
    return min(limits)


def _resolved(pairs: list[ModelPair | None]) -> dict:
    """Facts fixed at start-up that change the numbers: the dtype ``auto`` resolved to."""
    dtypes = {str(next(p[0].parameters()).dtype).removeprefix("torch.") for p in pairs if p is not None}
    return {"dtype": ",".join(sorted(dtypes))}


def build_context(
    cfg: ProfileConfig,
    model: ModelPair | None = None,
    *,
    scorer_model: ModelPair | None = None,
    compare_model: ModelPair | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[Context, list[ModelPair | None]]:
    """Load the models (or take in-process ones) and build the shard context: what every shard is computed
    with, in this process or on a Ray actor. Returns it with ``[student, scorer, compare]`` pairs."""
    student, tok = model if model is not None else _load(cfg.model, cfg)
    scorer_pair = scorer_model or (_load(cfg.scorer_model, cfg) if cfg.scorer_model else None)
    compare_pair = compare_model or (_load(cfg.compare_model, cfg) if cfg.compare_model else None)
    for label, pair in (("scorer_model", scorer_pair), ("compare_model", compare_pair)):
        if pair is not None and pair[1].get_vocab() != tok.get_vocab():
            raise ValueError(
                f"{label}: its tokenizer differs from the student's; scores must share token positions"
            )

    template = Path(cfg.template).read_text(encoding="utf-8") if cfg.template else None
    pad = tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)

    def mk(m) -> Scorer:
        return Scorer(
            m,
            pad,
            chunk_rows=cfg.chunk_rows,
            compile=cfg.compile,
            exact=cfg.exact_logits,
            packing=cfg.packing,
            pack_length=cfg.pack_length,
        )

    st = mk(student)
    ctx = Context(
        cfg=cfg,
        renderer=Renderer(
            tok, template=template, no_template=cfg.no_template, template_path=cfg.template or "template"
        ),
        student=st,
        scorer=mk(scorer_pair[0]) if scorer_pair else st,
        compare=mk(compare_pair[0]) if compare_pair else None,
        max_length=context_length(student, tok, cfg),
        on_tokens=on_progress,
    )
    return ctx, [(student, tok), scorer_pair, compare_pair]


def _identities(cfg: ProfileConfig, pairs: list[ModelPair | None]) -> dict:
    student, scorer_pair, compare_pair = pairs
    models = {"student": model_identity(student[0], cfg.model, cfg.revision)}
    if scorer_pair:
        models["scorer"] = model_identity(scorer_pair[0], cfg.scorer_model or "", None)
    if compare_pair:
        models["compare"] = model_identity(compare_pair[0], cfg.compare_model or "", None)
    return models


class ProfileWorker:
    """One Ray actor's share of ``profile --engine ray``: loads the models once (by path, on the actor's
    device) and profiles a shard with :func:`profile_shard`, the function a local run calls."""

    def __init__(self, cfg: dict, resolved: dict, plan: ChunkPlan | None = None):
        c = ProfileConfig.from_dict({**cfg, "engine": "local", "ray_address": None})
        self.plan = plan  # where the actor reads its own chunk of the input (None: examples are sent)
        self.ctx, pairs = build_context(c)
        from reasonsift.scale.ray_engine import check_resolved

        check_resolved(_resolved(pairs), resolved)
        self.models = _identities(c, pairs)

    def __call__(self, shard: int, payload: tuple[int, list[Example] | Chunk]):
        lo, chunk = payload
        if isinstance(chunk, Chunk):
            chunk = read_chunk(self.plan, chunk)
        rows, rejects, counters = profile_shard(self.ctx, chunk, lo)
        return rows, rejects, counters, self.ctx.ig_cache, self.models


def run_profile(
    cfg: ProfileConfig,
    model: ModelPair | None = None,
    *,
    examples: list[Example] | None = None,
    scorer_model: ModelPair | None = None,
    compare_model: ModelPair | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    on_shard: Callable[[int], None] | None = None,
    plan: ChunkPlan | None = None,
) -> RunResult:
    """Profile ``cfg.data`` (or ``examples``) with ``cfg.model`` (or an in-process ``(model, tokenizer)``).

    With ``--engine ray`` and a JSONL or Parquet file, the input is not held here: it is validated chunk by
    chunk (:func:`reasonsift.data.chunks.plan_chunks`, or ``plan`` when the caller made it) and each actor
    reads its own shard's records.

    ``on_progress(n_sequences, n_tokens)`` is called after each forward pass of the student's main pass (with
    ``--engine ray``: after each shard); ``on_shard(i)`` after shard ``i`` is on disk (tests raise there to
    simulate a crash).
    """
    cfg.validate()
    run = RunDir(cfg.out_dir)
    run.check(run_record("profile", cfg), resume=cfg.resume, overwrite=cfg.overwrite)  # before any loading
    on_ray = cfg.engine == "ray"
    if examples is None and plan is None:
        if not cfg.data:
            raise ValueError("data: no data file given")
        if on_ray and chunkable(cfg.data):
            plan = plan_chunks(cfg.data, cfg.shard_size, limit=cfg.limit)
        else:
            from reasonsift.data.io import read_examples

            examples = list(read_examples(cfg.data, split=cfg.split).examples)
    if plan is not None:
        if not on_ray or plan.size != cfg.shard_size:
            raise ValueError("plan: a chunk plan is for --engine ray, in chunks of --shard-size records")
        sizes = {c.index: c.n for c in plan.chunks}
    else:
        examples = examples[: cfg.limit] if cfg.limit else examples
        _check_ids(examples)
        sizes = {i: len(examples[i * cfg.shard_size : (i + 1) * cfg.shard_size])
                 for i in range((len(examples) + cfg.shard_size - 1) // cfg.shard_size)}  # fmt: skip
    data_input = examples_input(cfg.data, examples or [])
    if on_ray:
        from reasonsift.scale.ray_engine import start

        if model is not None or scorer_model is not None or compare_model is not None:
            raise ValueError(
                "engine: --engine ray loads the models by name on each actor; pass names, not models"
            )
        resolved = start(cfg, cfg.dtype, cfg.device, progress=cfg.progress)
        ctx, models, pairs = None, None, None
    else:
        ctx, pairs = build_context(
            cfg, model, scorer_model=scorer_model, compare_model=compare_model, on_progress=on_progress
        )
        resolved = _resolved(pairs)
        models = _identities(cfg, pairs)
    # Start-up passed (data read, models loaded, logits probed, template parsed): only now does the directory become a run (a failed start leaves nothing to block a rerun).
    record = run_record("profile", cfg, {"data": data_input}, resolved)
    run.begin(record, resume=cfg.resume, overwrite=cfg.overwrite)

    t0, state = time.perf_counter(), {"tokens": 0, "ig_cache": True}
    n_shards = len(sizes)

    def chunk(i: int) -> list[Example]:
        return examples[i * cfg.shard_size : (i + 1) * cfg.shard_size]

    todo = []
    for i, n in sizes.items():
        if cfg.resume and run.is_done(i):
            if on_progress:
                on_progress(n, 0)
        else:
            todo.append(i)

    def write(i: int, rows: list, rejects: list, counters: dict) -> None:
        state["tokens"] += counters["tokens"]
        run.write_shard(i, rows, rejects, {"shard": i, "first_index": i * cfg.shard_size, **counters})
        if on_shard:
            on_shard(i)

    if on_ray:
        from reasonsift.scale.ray_engine import run_shards

        def write_result(i: int, res: tuple) -> None:
            nonlocal models
            rows, rejects, counters, ig_cache, models = res
            state["ig_cache"] &= ig_cache
            write(i, rows, rejects, counters)
            if on_progress:
                on_progress(sizes[i], counters["tokens"])

        if plan is not None:  # the actors read their own chunks: only locations travel
            wanted = set(todo)
            tasks = [(c.index, (c.first, c)) for c in plan.chunks if c.index in wanted]
            meta = ChunkPlan(plan.path, plan.container, plan.fmt, plan.field_map, size=plan.size)
        else:
            tasks, meta = [(i, (i * cfg.shard_size, chunk(i))) for i in todo], None
        kwargs = {"cfg": cfg.to_dict(), "resolved": resolved, "plan": meta}
        run_shards(tasks, ProfileWorker, kwargs, write_result, cfg, progress=cfg.progress)
        if models is None:  # every shard was already done: the manifest still names the models
            models = _identities(cfg, build_context(cfg)[1])
    else:
        for i in todo:
            write(i, *profile_shard(ctx, chunk(i), i * cfg.shard_size))
        state["ig_cache"] = ctx.ig_cache
    elapsed = time.perf_counter() - t0

    counters: dict = {}
    for i in range(n_shards):
        for k, v in run.done_info(i).items():
            if k not in ("shard", "first_index"):
                counters[k] = counters.get(k, 0) + v
    run.collect_rejects(n_shards)
    if cfg.infogain:
        counters["ig_method"] = (
            "separate passes" if cfg.ig_whole_sequence or not state["ig_cache"] else "kv-cache prefixes"
        )
    counters["elapsed_s"] = elapsed
    counters["tokens_per_s"] = state["tokens"] / elapsed if elapsed > 0 else 0.0
    stats = finalize(run, cfg, counters)

    manifest = build_manifest("profile", cfg.to_dict(), models=models, inputs=[data_input], resolved=resolved)
    run.write_json("manifest.json", manifest)
    n_in = plan.n if plan is not None else len(examples)
    if n_in and not counters.get("n_rows"):
        raise ValueError(
            f"data: all {n_in} examples were rejected, nothing was profiled; see {run.root / 'rejects.jsonl'}"
        )
    return RunResult(run.root, stats, counters.get("n_rows", 0), counters.get("n_rejected", 0))


def _check_ids(examples: list[Example]) -> None:
    """Profile rows are keyed by id (forking.parquet, select, the viewer): ids must be unique."""
    seen: set[str] = set()
    for i, ex in enumerate(examples):
        if ex.id in seen:
            raise ValueError(
                f"id: {ex.id!r} (example {i}) is not unique; every profiled example needs its own id"
            )
        seen.add(ex.id)
