"""``reasonsift eval``: generate, verify and score on built-in tasks or a data file, on the run contract.

One run directory (docs/run-contract.md, docs/evaluate.md)::

    RUN/
      config.json, manifest.json     the run contract (resume compares the config and the data hash)
      shards/part-NNNNN.parquet      the samples of each shard of questions (+ markers, rejects): resumable
      samples.parquet                one row per sample: id, sample, completion, extracted, state, score,
                                     n_tokens, finish_reason, n_forced, the trace-quality columns, info gain
      questions.parquet              one row per question: id, task, split, n, correct, solve_rate, ...
      results.json                   metrics by group ("all", task/split): accuracy or pass@K, maj@K with CIs,
                                     counts of each verifier state

Items of built-in tasks are reproducible from ``(task, data_seed, split, index)``; samples from ``seed`` (one
derived seed per shard, so a resumed run draws the same samples as an uninterrupted one).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pyarrow as pa
import pyarrow.parquet as pq

from reasonsift.data.example import Example
from reasonsift.data.render import prompt_text
from reasonsift.evaluate.results import (
    IG_COLUMNS,
    QUESTION_SCHEMA,
    per_question,
    question_row,
    results_summary,
    sample_schema,
)
from reasonsift.run import RunDir, StageConfig, build_manifest, examples_input, model_identity, run_record
from reasonsift.scale.options import ScaleOptions
from reasonsift.utils.io import atomic_path

BACKENDS = ("hf", "vllm")
DTYPES = ("auto", "float32", "bfloat16", "float16")
DEFAULT_SPLIT = "test"
OUTPUTS = ("samples.parquet", "questions.parquet", "results.json", "hybrid.json")


def parse_task_spec(spec: str) -> tuple[str, str]:
    """``NAME[:SPLIT]`` -> (name, split); ``gym:NAME[:SPLIT]`` keeps its ``gym:`` prefix. Default split test."""
    from reasonsift.tasks import SPLITS

    parts = spec.split(":")
    if parts[0] == "gym":
        name, rest = ":".join(parts[:2]), parts[2:]
    else:
        name, rest = parts[0], parts[1:]
    if len(rest) > 1 or not name:
        raise ValueError(f"tasks: cannot read {spec!r}; expected NAME or NAME:SPLIT")
    split = rest[0] if rest else DEFAULT_SPLIT
    if split not in SPLITS:
        raise ValueError(f"tasks: unknown split {split!r} in {spec!r}; expected one of {', '.join(SPLITS)}")
    return name, split


def _int_list(v) -> list[int]:
    items = v if isinstance(v, list | tuple) else str(v).split(",")
    return [int(x) for x in items if str(x).strip()]


@dataclass
class EvalStageConfig(StageConfig, ScaleOptions):
    RUNTIME_ONLY: ClassVar[tuple[str, ...]] = (
        "resume", "overwrite", "device", "progress", "allow_pickle", "trust_remote_code", "batch_size",
        "workers", "tensor_parallel_size", *ScaleOptions.SCALE_FIELDS,
    )  # fmt: skip

    model: str = ""  # model directory or Hugging Face id
    out_dir: str = ""
    tasks: list[str] = field(default_factory=list)  # NAME[:SPLIT] of built-in tasks (or gym:NAME)
    data: str = ""  # or a data file / dataset directory / run directory of examples
    split: str = "train"  # of a Hugging Face dataset directory or hub id given as data
    limit: int | None = None  # the first N questions (per task:split; built-in tasks default to 100)
    n: int = 1  # samples per question
    k: list[int] = field(default_factory=lambda: [1])  # pass@K and maj@K for each K (<= n)
    temperature: float = 0.0  # 0: greedy
    top_p: float = 1.0
    max_new_tokens: int | None = None  # None: 2x the longest reference completion + 16 tokens
    seed: int = 0  # sampling seed
    data_seed: int = 0  # seed of the built-in task items
    difficulty: int | None = None
    min_thinking_tokens: int | None = None  # s1 budget forcing (see evaluate/backends)
    max_thinking_tokens: int | None = None
    backend: str = "hf"
    tensor_parallel_size: int = 1  # vllm backend: GPUs per model (per Ray actor with --engine ray)
    verifier: str = "auto"  # auto | task | mc | math | exact
    verifier_timeout: float = 5.0  # seconds per verification (math); a timeout is never a wrong answer
    quality: bool = True  # trace validity, length and strategy of generated traces
    infogain: bool = True  # information gain of generated traces (profile engine, answer NLL per step)
    scorer_model: str | None = None  # fixed scorer for information gain (C6); default: the evaluated model
    # Hybrid decoding (CLAIMS.md C2): this base model decodes, steered by the evaluated (post-trained) model
    # where their greedy next tokens differ (everywhere, and only at the base model's forking tokens).
    hybrid_base: str | None = None
    hybrid_rho: float = 0.2  # forking share for the only-at-forking-tokens variant (arXiv 2506.01939)
    batch_size: int = 32
    shard_size: int = 256  # questions per shard (the unit of --resume)
    workers: int = 2  # verifier worker processes
    device: str = "auto"
    dtype: str = "auto"
    trust_remote_code: bool = False
    allow_pickle: bool = False
    resume: bool = False
    overwrite: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        from reasonsift.models.load import check_device

        if isinstance(self.tasks, str):
            self.tasks = [t for t in self.tasks.split(",") if t.strip()]
        self.k = _int_list(self.k)
        if not self.model:
            raise ValueError("model: no model given")
        if not self.out_dir:
            raise ValueError("out_dir: no run directory given")
        if bool(self.tasks) == bool(self.data):
            raise ValueError(
                "tasks: give built-in tasks (--task NAME[:SPLIT]) or --data FILE, not both or neither"
            )
        for spec in self.tasks:
            parse_task_spec(spec)
        self.check_scale()
        for name in ("n", "batch_size", "shard_size", "workers", "tensor_parallel_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: expected >= 1, got {getattr(self, name)}")
        for name in ("limit", "max_new_tokens", "min_thinking_tokens", "max_thinking_tokens"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"{name}: expected >= 1, got {v}")
        if not self.k or any(k < 1 for k in self.k):
            raise ValueError(f"k: expected positive integers, got {self.k}")
        if max(self.k) > self.n:
            raise ValueError(
                f"k: pass@{max(self.k)} needs at least {max(self.k)} samples per question; got --n {self.n}"
            )
        if not self.temperature >= 0:
            raise ValueError(f"temperature: expected >= 0, got {self.temperature}")
        if self.temperature == 0 and self.n > 1:
            raise ValueError(
                "n: greedy decoding (temperature 0) gives one distinct sample; pass --temperature > 0"
            )
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p: expected 0 < top_p <= 1, got {self.top_p}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend: expected one of {BACKENDS}, got {self.backend!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype: expected one of {DTYPES}, got {self.dtype!r}")
        from reasonsift.evaluate.verify import KINDS

        if self.verifier not in KINDS:
            raise ValueError(f"verifier: expected one of {KINDS}, got {self.verifier!r}")
        if not self.verifier_timeout > 0:
            raise ValueError(f"verifier_timeout: expected > 0, got {self.verifier_timeout}")
        check_device(self.device)
        if self.hybrid_base and self.temperature != 0:
            raise ValueError("hybrid_base: hybrid decoding is greedy; pass --temperature 0 (the default)")
        if not 0 < self.hybrid_rho <= 1:
            raise ValueError(f"hybrid_rho: expected 0 < rho <= 1, got {self.hybrid_rho}")
        if self.resume and self.overwrite:
            raise ValueError("resume: --resume and --overwrite exclude each other")


@dataclass
class Question:
    """One question of the run, with the labels metrics are grouped by."""

    ex: Example
    task: str
    split: str


@dataclass
class EvalRunResult:
    out_dir: Path
    results: dict
    n_questions: int
    n_samples: int


def questions(cfg: EvalStageConfig) -> list[Question]:
    """The run's questions: built-in task items in order of ``cfg.tasks``, or the examples of ``cfg.data``."""
    from reasonsift.tasks import get_task

    out: list[Question] = []
    if cfg.tasks:
        for spec in cfg.tasks:
            name, split = parse_task_spec(spec)
            n = cfg.limit or 100
            exs = get_task(name).generate(n, seed=cfg.data_seed, split=split, difficulty=cfg.difficulty)
            out += [Question(ex, name, split) for ex in exs]
    else:
        from reasonsift.data.io import read_examples

        exs = read_examples(cfg.data, split=cfg.split).examples
        if cfg.limit:
            exs = exs[: cfg.limit]
        for ex in exs:
            out.append(
                Question(
                    ex, str(ex.meta.get("task") or ex.domain or "data"), str(ex.meta.get("split") or "-")
                )
            )
    seen: set[str] = set()
    for q in out:
        if q.ex.id in seen:
            raise ValueError(f"id: {q.ex.id!r} appears twice; every question needs its own id")
        seen.add(q.ex.id)
    return out


def render_prompt(tokenizer, ex: Example) -> str:
    """The user turn rendered with the chat template (plain template otherwise) and a generation prompt."""
    from reasonsift.models.template import render

    return render(tokenizer, [{"role": "user", "content": prompt_text(ex)}], add_generation_prompt=True)


def main(
    cfg: EvalStageConfig,
    model=None,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    on_shard: Callable[[int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> EvalRunResult:
    """Run the evaluation; ``model`` may be an in-process ``(model, tokenizer)`` (``cfg.model`` is its label).
    ``on_start(n_completions)`` once the questions are known; ``on_progress(completions, tokens)`` with the
    increments since its last call; ``on_shard(i)`` after shard ``i`` is on disk."""
    run = RunDir(cfg.out_dir, stage="eval", shards="shards", outputs=OUTPUTS)
    run.check(run_record("eval", cfg), resume=cfg.resume, overwrite=cfg.overwrite)
    qs = questions(cfg)
    if on_start:
        on_start(len(qs) * cfg.n)
    data_input = examples_input(cfg.data, [q.ex for q in qs])  # built-in task items are data too
    on_ray, models = cfg.engine == "ray", None
    if on_ray:
        from reasonsift.scale.ray_engine import start

        if model is not None:
            raise ValueError(
                "engine: --engine ray loads the model by name on each actor; pass a name, not a model"
            )
        resolved = start(cfg, cfg.dtype, cfg.device, progress=cfg.progress)
        shards = None
        tok = _tokenizer(cfg)
    else:
        shards = ShardEvaluator(cfg, model)
        tok = shards.tok
        resolved = shards.resolved
    run.begin(
        run_record("eval", cfg, {"data": data_input}, resolved), resume=cfg.resume, overwrite=cfg.overwrite
    )

    max_new = cfg.max_new_tokens or _default_budget(tok, [q.ex for q in qs])
    schema = sample_schema()
    n_shards = (len(qs) + cfg.shard_size - 1) // cfg.shard_size
    chunks = {i: qs[i * cfg.shard_size : (i + 1) * cfg.shard_size] for i in range(n_shards)}
    t0 = time.perf_counter()
    todo = []
    for i, chunk in chunks.items():
        if cfg.resume and run.is_done(i):
            if on_progress:
                on_progress(len(chunk) * cfg.n, 0)
        else:
            todo.append(i)

    def write(i: int, rows: list[dict]) -> None:
        info = {"shard": i, "n_questions": len(chunks[i]), "n_samples": len(rows)}
        run.write_shard(i, rows, [], info, schema)
        if on_shard:
            on_shard(i)

    if on_ray:
        from reasonsift.scale.ray_engine import run_shards

        def write_result(i: int, res: tuple) -> None:
            nonlocal models
            rows, n_tokens, models = res
            write(i, rows)
            if on_progress:
                on_progress(len(rows), n_tokens)

        tasks = [(i, chunks[i]) for i in todo]
        kw = {"cfg": cfg.to_dict(), "max_new": max_new, "resolved": resolved}
        run_shards(tasks, EvalWorker, kw, write_result, cfg, progress=cfg.progress)
    else:
        for i in todo:
            write(i, shards.rows(i, chunks[i], max_new, on_progress)[0])
    run.collect_rejects(n_shards)
    elapsed = time.perf_counter() - t0
    samples = run.read() if n_shards else schema.empty_table()
    with atomic_path(run.root / "samples.parquet") as tmp:
        pq.write_table(samples, tmp)
    per_q = per_question(qs, samples.to_pylist())
    with atomic_path(run.root / "questions.parquet") as tmp:
        pq.write_table(pa.Table.from_pylist([question_row(p) for p in per_q], schema=QUESTION_SCHEMA), tmp)
    results = results_summary(cfg, per_q, samples.to_pylist(), elapsed)
    run.write_json("results.json", results)
    if cfg.hybrid_base:
        from reasonsift.evaluate.hybrid_run import hybrid_report

        if shards is None or shards.lm is None:
            shards = ShardEvaluator(cfg, model, generate=False)  # hybrid decoding runs on the driver
        run.write_json("hybrid.json", hybrid_report(cfg, qs, (shards.lm, tok), max_new))
    if models is None or shards is not None:  # a local run, or no shard computed on Ray
        models = _identities(cfg, shards)
    manifest = build_manifest("eval", cfg.to_dict(), models=models, inputs=[data_input], resolved=resolved)
    run.write_json("manifest.json", manifest)
    return EvalRunResult(run.root, results, len(qs), samples.num_rows)


class ShardEvaluator:
    """What a shard of questions is evaluated with: the model, its generation backend and the information-gain
    scorer, loaded once (in this process, or on each Ray actor by :class:`EvalWorker`). With ``--backend vllm``
    the backend loads the model by name; the HF model is loaded only when information gain needs it."""

    def __init__(self, cfg: EvalStageConfig, model=None, *, generate: bool = True):
        from reasonsift.evaluate.backends import get_backend
        from reasonsift.models.load import load_with

        self.cfg = cfg
        hf_needed = cfg.backend == "hf" or cfg.infogain or cfg.hybrid_base or not generate
        if model is None and hf_needed:
            model = load_with(cfg)
        self.lm, self.tok = model if model is not None else (None, _tokenizer(cfg))
        self.scorer = _scorer(cfg, self.lm, self.tok)
        self.backend = None
        if generate:
            if cfg.backend == "vllm":
                self.backend = get_backend("vllm", cfg.model, **_vllm_kwargs(cfg))
            else:
                self.backend = get_backend(cfg.backend, self.lm, self.tok, batch_size=cfg.batch_size)
        dtype = cfg.dtype if self.lm is None else str(next(self.lm.parameters()).dtype).removeprefix("torch.")
        self.resolved = {"dtype": dtype}

    def rows(self, i: int, chunk: list[Question], max_new: int, on_progress=None) -> tuple[list[dict], int]:
        """Shard ``i``'s sample rows (its own derived sampling seed, so any worker draws the same samples) and
        the tokens generated."""
        from reasonsift.evaluate.backends import SamplingParams

        cfg = self.cfg
        params = SamplingParams(
            n=cfg.n, temperature=cfg.temperature, top_p=cfg.top_p, max_new_tokens=max_new,
            seed=cfg.seed * 1_000_003 + i, min_thinking_tokens=cfg.min_thinking_tokens,
            max_thinking_tokens=cfg.max_thinking_tokens,
        )  # fmt: skip
        prompts = [render_prompt(self.tok, q.ex) for q in chunk]
        gens = self.backend.generate(prompts, params, on_progress=on_progress)
        rows = _shard_rows(cfg, chunk, gens, self.scorer)
        return rows, sum(g.n_tokens for samples in gens for g in samples)


class EvalWorker:
    """One Ray actor's share of ``eval --engine ray``: a :class:`ShardEvaluator` on the actor's device."""

    def __init__(self, cfg: dict, max_new: int, resolved: dict):
        c = EvalStageConfig.from_dict({**cfg, "engine": "local", "ray_address": None, "hybrid_base": None})
        from reasonsift.scale.ray_engine import check_resolved

        self.shards = ShardEvaluator(c)
        self.max_new = max_new
        check_resolved(self.shards.resolved, resolved)
        self.models = _identities(c, self.shards)

    def __call__(self, shard: int, chunk: list[Question]) -> tuple[list[dict], int, dict]:
        """Shard ``shard``'s rows, its generated tokens and the manifest's models (as a local run names them)."""
        return *self.shards.rows(shard, chunk, self.max_new), self.models


def _tokenizer(cfg: EvalStageConfig):
    from transformers import AutoTokenizer

    from reasonsift.models.load import resolve_local_dir

    path = resolve_local_dir(cfg.model, allow_pickle=cfg.allow_pickle)
    return AutoTokenizer.from_pretrained(str(path), trust_remote_code=cfg.trust_remote_code)


def _vllm_kwargs(cfg: EvalStageConfig) -> dict:
    kw = {"tensor_parallel_size": cfg.tensor_parallel_size, "trust_remote_code": cfg.trust_remote_code}
    if cfg.dtype != "auto":
        kw["dtype"] = cfg.dtype
    return kw


def _identities(cfg: EvalStageConfig, shards: ShardEvaluator | None) -> dict:
    """The manifest's models; without a model in this process (vLLM without information gain, or ``--engine ray``
    with every shard already done), the model is named by its name alone."""
    if shards is None or shards.lm is None:
        return {"model": {"name": cfg.model, "revision": None}}
    models = {"model": model_identity(shards.lm, cfg.model, None)}
    if cfg.scorer_model and shards.scorer is not None:
        models["scorer"] = model_identity(shards.scorer[0], cfg.scorer_model, None)
    return models


def _default_budget(tok, exs: list[Example]) -> int:
    from reasonsift.data.render import completion_text

    return 2 * max(len(tok(completion_text(e), add_special_tokens=False).input_ids) for e in exs) + 16


def _scorer(cfg: EvalStageConfig, lm, tok):
    """The (model, tokenizer) that scores information gain: ``--scorer-model``, else the evaluated model."""
    if not cfg.infogain:
        return None
    if cfg.scorer_model:
        from reasonsift.models.load import load_with

        pair = load_with(cfg, cfg.scorer_model)
        if pair[1].get_vocab() != tok.get_vocab():
            raise ValueError("scorer_model: its tokenizer differs from the evaluated model's")
        return pair
    return (lm, tok)


def _shard_rows(cfg: EvalStageConfig, chunk: list[Question], gens, scorer) -> list[dict]:
    from reasonsift.evaluate.quality import QUALITY_COLUMNS, trace_quality
    from reasonsift.evaluate.verify import verify_all

    flat = [(q, s, g) for q, samples in zip(chunk, gens, strict=True) for s, g in enumerate(samples)]
    outcomes = verify_all(
        [g.text for _, _, g in flat],
        [q.ex for q, _, _ in flat],
        timeout=cfg.verifier_timeout,
        workers=cfg.workers,
    )
    rows = []
    for (q, s, g), o in zip(flat, outcomes, strict=True):
        row = {
            "id": q.ex.id, "task": q.task, "split": q.split, "domain": q.ex.domain, "format": q.ex.format,
            "sample": s, "completion": g.text, "extracted": o.extracted, "state": o.state, "score": o.score,
            "detail": o.detail, "n_tokens": g.n_tokens, "finish_reason": g.finish_reason, "n_forced": g.n_forced,
        }  # fmt: skip
        if cfg.quality:
            row.update(trace_quality(g.text, q.ex))
        else:
            row.update(dict.fromkeys(QUALITY_COLUMNS))
        row.update(dict.fromkeys(c for c, _ in IG_COLUMNS))
        rows.append(row)
    if scorer is not None:
        from reasonsift.evaluate.generated import add_infogain

        add_infogain(cfg, rows, [q.ex for q, _, _ in flat], scorer)
    return rows
