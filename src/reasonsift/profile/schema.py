"""The profile run's column names and Parquet schemas (docs/profile-schema.md): the one place they are spelled.

The summary, the viewer, the demo and later stages (select) import the names from here. A profile row keeps
every :class:`~reasonsift.data.example.Example` field, so ``examples/*.parquet`` is itself readable as data.
"""

from __future__ import annotations

import pyarrow as pa

from reasonsift.data.example import FIELDS as EXAMPLE_FIELDS
from reasonsift.data.writers import META_ENCODING_KEY

# Segment codes of each scored token (column SEGMENT).
TRACE, ANSWER, OTHER = 0, 1, 2

# -- examples/*.parquet: one row per profiled example ------------------------------------------------------
ID = "id"
INPUT_IDS = "input_ids"
SCORE_START = "score_start"
N_TRUNCATED = "n_truncated"
TOKEN_IDS = "token_ids"
TOKENS = "tokens"
ENTROPY = "entropy"
LOGPROB = "logprob"
RANK = "rank"
TOP_IDS = "top_ids"
TOP_TOKENS = "top_tokens"
TOP_LOGPROBS = "top_logprobs"
SEGMENT = "segment"
STEP = "step"
FORKING_SEQUENCE = "forking_sequence"
N_TOKENS = "n_tokens"
COMPARE_ENTROPY = "compare_entropy"
# Per-example entropy summary (reasonsift.ops.stats.entropy_summary keys).
H_MEAN, H_P50, H_P80, H_P90, H_P99 = "H_mean", "H_p50", "H_p80", "H_p90", "H_p99"
FRAC_H_LOW = "frac_H_below_0_01"
TOP20_MASS = "top20_entropy_mass"
# IFD / r-IFD (CLAIMS.md C7) and information gain (C6).
S_A_GIVEN_Q, S_A, IFD = "s_a_given_q", "s_a", "ifd"
PPL_Q_GIVEN_A, PPL_Q, R_IFD = "ppl_q_given_a", "ppl_q", "r_ifd"
IFD_NULL_REASON = "ifd_null_reason"
IG_NLL, IG_GAINS, IG_TOTAL, INFO_GAIN = "ig_nll", "ig_gains", "ig_total", "info_gain"
IG_N_STEPS = "ig_n_steps"
POSTHOC = "posthoc"

_F32, _I32 = pa.float32(), pa.int32()

EXAMPLE_SCHEMA = pa.schema(
    [
        # every Example field first, typed as the native Parquet writer types them (meta as JSON text)
        *((k, pa.list_(pa.string()) if k == "choices" else pa.string()) for k in EXAMPLE_FIELDS),
        (INPUT_IDS, pa.list_(_I32)),
        (SCORE_START, _I32),
        (N_TRUNCATED, _I32),  # tokens dropped on the left by --overflow truncate-left (0 otherwise)
        (TOKEN_IDS, pa.list_(_I32)),
        (TOKENS, pa.list_(pa.string())),
        (ENTROPY, pa.list_(_F32)),
        (LOGPROB, pa.list_(_F32)),
        (RANK, pa.list_(_I32)),
        (TOP_IDS, pa.list_(pa.list_(_I32))),
        (TOP_TOKENS, pa.list_(pa.list_(pa.string()))),
        (TOP_LOGPROBS, pa.list_(pa.list_(_F32))),
        (SEGMENT, pa.list_(pa.int8())),
        (STEP, pa.list_(pa.int32())),
        (FORKING_SEQUENCE, pa.list_(pa.bool_())),
        (N_TOKENS, _I32),
        (H_MEAN, _F32),
        (H_P50, _F32),
        (H_P80, _F32),
        (H_P90, _F32),
        (H_P99, _F32),
        (FRAC_H_LOW, _F32),
        (TOP20_MASS, _F32),
        (S_A_GIVEN_Q, _F32),
        (S_A, _F32),
        (IFD, _F32),
        (IFD_NULL_REASON, pa.string()),  # why s(A|Q) / IFD is null: question_cut, over_context, no_target
        (PPL_Q_GIVEN_A, _F32),
        (PPL_Q, _F32),
        (R_IFD, _F32),
        (IG_NLL, pa.list_(_F32)),
        (IG_GAINS, pa.list_(_F32)),
        (
            IG_N_STEPS,
            _I32,
        ),  # steps of the trace (ig_nll has groups + 1 values when --ig-max-steps groups them)
        (IG_TOTAL, _F32),
        (INFO_GAIN, _F32),
        (POSTHOC, pa.bool_()),
        (COMPARE_ENTROPY, pa.list_(_F32)),  # --compare-model's entropies at the same positions (else null)
    ],
    metadata={META_ENCODING_KEY: b"json"},
)

# -- forking.parquet: masks whose pool spans examples (written after all shards) ---------------------------
FORKING = "forking"  # the mask of the pool chosen with --pool
FORKING_DATASET = "forking_dataset"
FORKING_BATCH = "forking_batch"
FORKING_FIXED = "forking_fixed"
N_FORKING = "n_forking"

FORKING_SCHEMA = pa.schema(
    [
        (ID, pa.string()),
        (FORKING, pa.list_(pa.bool_())),
        (FORKING_DATASET, pa.list_(pa.bool_())),
        (FORKING_BATCH, pa.list_(pa.bool_())),
        (FORKING_FIXED, pa.list_(pa.bool_())),
        (N_FORKING, _I32),  # of the chosen pool's mask, as are the three counts and the per-step list below
        ("forking_trace", _I32),
        ("forking_answer", _I32),
        ("forking_other", _I32),
        ("forking_per_step", pa.list_(_I32)),
    ]
)
