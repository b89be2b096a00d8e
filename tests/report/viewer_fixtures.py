"""Builders of fixture profile run directories, written with pyarrow following ``docs/profile-schema.md``."""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

XSS_SCRIPT = "<script>window.__pwned=1</script>"
XSS_IMG = '<img src=x onerror="window.__pwned=1">'
XSS_CLOSE = "</script>"

QUESTIONS = [
    ("A train travels 60 km in 45 minutes. What is its speed in km/h?", "80"),
    ("What is 17 * 23?", "391"),
    ("Is 221 prime? Answer yes or no.", "no"),
    ("Sum the integers from 1 to 20.", "210"),
    ("A shirt costs $40 after a 20% discount. What was the original price?", "50"),
]
TRACES = [
    "45 minutes is 0.75 hours.\nSpeed = distance / time = 60 / 0.75.\n60 / 0.75 = 80.\nSo the speed is 80 km/h.",
    "17 * 23 = 17 * 20 + 17 * 3.\n17 * 20 = 340.\n17 * 3 = 51.\n340 + 51 = 391.",
    "Check small primes.\n221 / 13 = 17, so 221 = 13 * 17.\nWait, let me verify: 13 * 17 = 221. Yes.\nSo 221 is not prime.",
    "Use n(n+1)/2 with n = 20.\n20 * 21 = 420.\n420 / 2 = 210.",
    "Let p be the original price.\np * (1 - 0.2) = 40, so 0.8p = 40.\nHmm, p = 40 / 0.8 = 50.",
]
VOCAB = [" the", " =", " so", " 4", " 5", ".", "\n", " is", " wait", " 0", " *", " 1", " p", " and"]
FORK_WORDS = {"Wait", " Wait", " so", "So", " Hmm", "Hmm", " =", " Yes", " let"}

# Columns a minimal run has; everything else in the schema is optional for the viewer.
REQUIRED = {
    "id",
    "domain",
    "format",
    "question",
    "trace",
    "answer",
    "tokens",
    "entropy",
    "logprob",
    "rank",
    "n_tokens",
}


def tokenize(text: str) -> list[str]:
    """Word-ish tokens with a leading space (like BPE), newlines and punctuation on their own."""
    return re.findall(r" ?[A-Za-z]+| ?\d+| ?[^\w\s]|\n| +", text)


def _token_stats(rng: random.Random, tok: str, k: int) -> dict[str, Any]:
    """A top-(k+1) distribution for one token, its entropy, the token's log-prob and rank."""
    sharp = rng.uniform(0.2, 1.5) if tok in FORK_WORDS or tok.strip().isdigit() else rng.uniform(5.0, 12.0)
    logits = [-sharp * j - (0.5 * j * j if sharp > 4 else 0.0) for j in range(k + 1)]
    z = math.log(sum(math.exp(v) for v in logits))
    probs = [math.exp(v - z) for v in logits]
    h = -sum(p * math.log(p) for p in probs if p > 0)
    rank = 0 if sharp > 4 else rng.choices(range(k + 1), weights=probs)[0]
    alts = [t for t in VOCAB if t != tok]
    rng.shuffle(alts)
    top = alts[:k]
    if rank < k:
        top[rank] = tok
    return {
        "entropy": h,
        "logprob": math.log(probs[rank]),
        "rank": rank,
        "top_tokens": top,
        "top_logprobs": [math.log(p) for p in probs[:k]],
    }


def make_row(idx: int, question: str, trace: str, answer: str, k: int = 5, seed: int = 0) -> dict[str, Any]:
    """One example row with every column of the schema, internally consistent (steps = trace lines)."""
    rng = random.Random(seed * 1000 + idx)
    prefix = ["<think>", "\n"]
    body = tokenize(trace)
    suffix = ["\n", "</think>", "\n"] + tokenize(answer) + ["<eos>"]
    tokens = prefix + body + suffix
    seg = [2] * len(prefix) + [0] * len(body) + [2, 2, 2] + [1] * (len(suffix) - 4) + [2]
    step, s = [], 0
    for t in body:
        step.append(s)
        s += t == "\n"
    steps = [-1] * len(prefix) + step + [-1] * len(suffix)
    per = [_token_stats(rng, t, k) for t in tokens]
    h = [p["entropy"] for p in per]
    n_steps = s + 1
    nll = [3.0 * math.exp(-0.6 * i) + rng.uniform(0, 0.2) for i in range(n_steps + 1)]
    hs = sorted(h)

    def q(f: float) -> float:
        return hs[min(len(hs) - 1, int(f * len(hs)))]

    cut = hs[int(0.8 * len(hs))]
    return {
        "id": f"ex-{idx:03d}",
        "domain": "math" if idx % 3 else "logic",
        "format": "open",
        "question": question,
        "trace": trace,
        "answer": answer,
        "input_ids": list(range(len(tokens) + 7)),
        "score_start": 7,
        "token_ids": list(range(7, len(tokens) + 7)),
        "tokens": tokens,
        "entropy": h,
        "logprob": [p["logprob"] for p in per],
        "rank": [p["rank"] for p in per],
        "top_ids": [[1, 2, 3, 4, 5][:k] for _ in per],
        "top_tokens": [p["top_tokens"] for p in per],
        "top_logprobs": [p["top_logprobs"] for p in per],
        "segment": seg,
        "step": steps,
        "forking_sequence": [x >= cut for x in h],
        "n_tokens": len(tokens),
        "H_mean": sum(h) / len(h),
        "H_p50": q(0.5),
        "H_p80": q(0.8),
        "H_p90": q(0.9),
        "H_p99": q(0.99),
        "frac_H_below_0_01": sum(x < 0.01 for x in h) / len(h),
        "top20_entropy_mass": sum(hs[int(0.8 * len(hs)) :]) / max(sum(hs), 1e-9),
        "s_a_given_q": 1.2,
        "s_a": 1.5 + 0.1 * idx,
        "ifd": rng.uniform(0.4, 1.2),
        "ppl_q_given_a": 3.0,
        "ppl_q": 4.0,
        "r_ifd": rng.uniform(0.5, 1.1),
        "ig_nll": nll,
        "ig_gains": [nll[i - 1] - nll[i] for i in range(1, len(nll))],
        "ig_total": nll[0] - nll[-1],
        "info_gain": rng.uniform(0.0, 2.0),
        "posthoc": idx % 4 == 3,
    }


_TYPES = {
    "input_ids": pa.list_(pa.int32()),
    "score_start": pa.int32(),
    "token_ids": pa.list_(pa.int32()),
    "tokens": pa.list_(pa.string()),
    "entropy": pa.list_(pa.float32()),
    "logprob": pa.list_(pa.float32()),
    "rank": pa.list_(pa.int32()),
    "top_ids": pa.list_(pa.list_(pa.int32())),
    "top_tokens": pa.list_(pa.list_(pa.string())),
    "top_logprobs": pa.list_(pa.list_(pa.float32())),
    "segment": pa.list_(pa.int8()),
    "step": pa.list_(pa.int16()),
    "forking_sequence": pa.list_(pa.bool_()),
    "n_tokens": pa.int32(),
    "ig_nll": pa.list_(pa.float32()),
    "ig_gains": pa.list_(pa.float32()),
    "posthoc": pa.bool_(),
}


def write_shard(path: Path, rows: list[dict[str, Any]], done: bool = True) -> None:
    cols = list(rows[0])
    fields = [
        pa.field(c, _TYPES.get(c, pa.string() if isinstance(rows[0][c], str) else pa.float32())) for c in cols
    ]
    table = pa.Table.from_pylist(rows, schema=pa.schema(fields))
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    if done:
        path.with_suffix(".done").write_text("")


def write_run(
    run_dir: Path,
    rows: list[dict[str, Any]],
    *,
    shard_size: int = 4,
    optional: bool = True,
    forking_file: bool = True,
    tau: float | None = 0.5,
    undone_rows: list[dict[str, Any]] | None = None,
    model: str = "builtin-tiny <b>model</b>",
) -> Path:
    """Write ``rows`` as a run directory; ``optional=False`` drops every column not in REQUIRED."""
    if not optional:
        rows = [{k: v for k, v in r.items() if k in REQUIRED} for r in rows]
    for k in range(0, len(rows), shard_size):
        write_shard(run_dir / "examples" / f"part-{k // shard_size:05d}.parquet", rows[k : k + shard_size])
    if undone_rows:
        n = (len(rows) + shard_size - 1) // shard_size
        write_shard(run_dir / "examples" / f"part-{n:05d}.parquet", undone_rows, done=False)
    if forking_file and tau is not None:
        ids = [r["id"] for r in rows]
        masks = [[h >= tau for h in r["entropy"]] for r in rows]
        batch = [[h >= 0.5 for h in r["entropy"]] for r in rows]
        m = pa.list_(pa.bool_())
        pq.write_table(
            pa.table(
                {"id": ids, "forking": masks, "forking_dataset": masks, "forking_batch": batch},
                schema=pa.schema(
                    [("id", pa.string()), ("forking", m), ("forking_dataset", m), ("forking_batch", m)]
                ),
            ),
            run_dir / "forking.parquet",
        )
    stats = {"tau": {"dataset": tau}, "forking_pool": "dataset"} if tau is not None else {}
    (run_dir / "stats.json").write_text(json.dumps(stats))
    (run_dir / "manifest.json").write_text(json.dumps({"model": model}))
    (run_dir / "rejects.jsonl").write_text('{"id": "x", "reason": "over context"}\n')
    return run_dir


def sample_rows(n: int = 7, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` realistic rows; row 1 carries the XSS payloads in question, trace, tokens and answer."""
    rows = []
    for i in range(n):
        q, a = QUESTIONS[i % len(QUESTIONS)]
        trace = TRACES[i % len(TRACES)]
        if i == 1:
            q = f"{q} {XSS_SCRIPT} {{{{JS}}}}"
            trace = f"{trace}\nNote: {XSS_IMG} and {XSS_CLOSE} stay text.\u2028"
        row = make_row(i, q, trace, a, seed=seed)
        if i == 1:
            row["tokens"][3] = XSS_SCRIPT
            row["tokens"][4] = XSS_IMG
            row["top_tokens"][5][1] = XSS_CLOSE
            row["answer"] = f"{a} {XSS_CLOSE}"
        rows.append(row)
    return rows


def severe(drv) -> list[str]:
    """The browser console's SEVERE entries (errors)."""
    return [e["message"] for e in drv.get_log("browser") if e["level"] == "SEVERE"]
