"""``ProfileConfig``: every option of ``reasonsift profile``, validated, serialisable into the run directory."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from reasonsift.models.load import check_device
from reasonsift.ops.infogain import DEFAULT_POSTHOC_GAIN, DEFAULT_POSTHOC_PPL0
from reasonsift.ops.masks import DEFAULT_RHO, INTERPOLATIONS, POOLS, check_rho
from reasonsift.run.config import StageConfig
from reasonsift.scale.options import ScaleOptions

OVERFLOW = ("reject", "truncate-left")
# What IFD's "A" is (CLAIMS.md C7): the whole completion <think>trace</think>answer (Selective Reflection-Tuning's
# code scores the whole response; Cherry LLM too, after a "### Response:" prefix), or the final answer tokens only.
IFD_TARGETS = ("completion", "answer")
DTYPES = ("auto", "float32", "bfloat16", "float16")

# Options that change no output number: a resumed run may change them freely. Batch sizes, head chunks and
# packing change numbers only at float rounding (batch-size invariance and packed = padded are tested; no pool
# depends on the forward passes), so a run that ran out of memory can resume with smaller ones.
RUNTIME_ONLY = (
    "resume", "overwrite", "compile", "device", "progress", "allow_pickle", "trust_remote_code",
    "batch_size", "max_tokens_per_batch", "chunk_rows", "packing", "pack_length", "attn_implementation", *ScaleOptions.SCALE_FIELDS,
)  # fmt: skip


@dataclass
class ProfileConfig(StageConfig, ScaleOptions):
    RUNTIME_ONLY: ClassVar[tuple[str, ...]] = RUNTIME_ONLY

    data: str = ""  # data file (jsonl/json/parquet) read with reasonsift.data.io.read_examples
    split: str = "train"  # split of a Hugging Face dataset directory or hub id
    model: str = ""  # student model: HF id or local path (or a label when passing an in-process model)
    out_dir: str = "runs/profile"
    revision: str | None = None
    dtype: str = "auto"  # auto = bfloat16 on GPU, float32 on CPU
    device: str = "auto"
    trust_remote_code: bool = False  # off by default: running a repository's code is opt-in
    allow_pickle: bool = False  # off by default: unpickling a .bin checkpoint can execute arbitrary code
    template: str | None = None  # jinja file overriding the tokenizer's chat template
    no_template: bool = False  # raw text: question + "\n" + completion
    segmenter: str = "auto"  # how the trace is split into steps (reasonsift.data.segment)
    temperature: float = 1.0  # p = softmax(z / T); T = 1.0 as in arXiv 2506.01939
    top_k: int = 5  # alternatives stored per token for the viewer
    rho: float = DEFAULT_RHO
    pool: str = "dataset"  # the pool whose mask goes into forking.parquet's `forking` column
    # The `batch` pool: examples shuffled with `seed` into batches of this many, as a trainer's data loader
    # would (8 = TRL's per_device_train_batch_size default); tau is computed over each batch's tokens.
    pool_batch_size: int = 8
    seed: int = 0
    quantile: str = "linear"  # torch.quantile interpolation used for tau
    threshold: float | None = None  # also write a fixed-threshold mask `forking_fixed`
    ifd: bool = True
    ifd_target: str = "completion"
    infogain: bool = True
    ig_whole_sequence: bool = False  # 2506.02126's code: PPL over the whole sequence, not the answer tokens
    # None: one prefix per step (the paper). N: group longer traces into N contiguous groups (fewer, coarser
    # ig_nll values); info_gain is unchanged by grouping, since sum_i (PPL_{i-1} - PPL_i) telescopes.
    ig_max_steps: int | None = None
    posthoc_ppl0: float = DEFAULT_POSTHOC_PPL0
    posthoc_gain: float = DEFAULT_POSTHOC_GAIN
    scorer_model: str | None = None  # fixed scorer for IFD / information gain (2506.02126); default: student
    compare_model: str | None = None  # second model: overlap of forking positions (C1 reports > 86%)
    batch_size: int = 16  # rows per forward pass (one sequence a row, or several with packing)
    max_tokens_per_batch: int = 16384  # padded tokens per forward pass (rows x longest row)
    # Pack several sequences into a row (position ids restart per sequence; variable-length attention, see
    # models.varlen): no padding between short traces. pack_length: tokens per row (default 4096 within
    # max_tokens_per_batch; see profile.scoring.DEFAULT_PACK_LENGTH).
    packing: bool = False
    pack_length: int | None = None
    # transformers' attention kernel: None keeps its default (sdpa); flash_attention_2 / flex_attention make
    # packed rows variable-length (no work on the masked blocks). Changes numbers only at float rounding.
    attn_implementation: str | None = None
    chunk_rows: int | None = None  # LM-head rows per chunk (default: ~256 MiB of fp32 logits)
    shard_size: int = 512  # examples per output shard (the unit of resume)
    max_length: int | None = None  # context limit; default from the model config / tokenizer
    overflow: str = "reject"
    limit: int | None = None  # profile only the first N examples
    compile: bool = False
    # Score with the model's full forward(...).logits instead of backbone + chunked head: slower, but right
    # for a model whose post-head transform reasonsift does not reproduce (the start-up probe refuses those).
    exact_logits: bool = False
    resume: bool = False
    overwrite: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        self.check_scale()
        check_rho(self.rho)
        if self.pool not in POOLS:
            raise ValueError(f"pool: expected one of {POOLS}, got {self.pool!r}")
        if self.quantile not in INTERPOLATIONS:
            raise ValueError(f"quantile: expected one of {INTERPOLATIONS}, got {self.quantile!r}")
        if self.overflow not in OVERFLOW:
            raise ValueError(f"overflow: expected one of {OVERFLOW}, got {self.overflow!r}")
        check_device(self.device)
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype: expected one of {DTYPES}, got {self.dtype!r}")
        if not (self.temperature > 0 and math.isfinite(self.temperature)):
            raise ValueError(f"temperature: expected > 0, got {self.temperature}")
        if self.ifd_target not in IFD_TARGETS:
            raise ValueError(f"ifd_target: expected one of {IFD_TARGETS}, got {self.ifd_target!r}")
        for name in ("batch_size", "max_tokens_per_batch", "shard_size", "pool_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: expected >= 1, got {getattr(self, name)}")
        if self.top_k < 0:
            raise ValueError(f"top_k: expected >= 0, got {self.top_k}")
        for name in ("chunk_rows", "limit", "ig_max_steps", "pack_length"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"{name}: expected >= 1, got {v}")
        if self.max_length is not None and self.max_length < 2:
            raise ValueError(
                f"max_length: expected >= 2 (a prompt token and a scored token), got {self.max_length}"
            )
        if self.threshold is not None and not math.isfinite(self.threshold):
            raise ValueError(f"threshold: expected a finite number, got {self.threshold}")
        if self.template and self.no_template:
            raise ValueError("template: --template and --no-template exclude each other")
        if self.resume and self.overwrite:
            raise ValueError("resume: --resume and --overwrite exclude each other")
