"""Dataset statistics: counts by domain and format, and the trace length distribution."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from reasonsift.data.example import Example

SUMMARY_KEYS = ("min", "p50", "p90", "max", "mean")


def percentile(sorted_values: list[float], q: float) -> float:
    """The ``q``-quantile (0..1) of already sorted values, linear between ranks (numpy's default rule)."""
    if not sorted_values:
        raise ValueError("percentile: no values")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q: expected 0..1, got {q}")
    pos = q * (len(sorted_values) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def length_summary(lengths: Iterable[int]) -> dict[str, float]:
    """min / p50 / p90 / max / mean of lengths; all zero for no lengths."""
    xs = sorted(float(v) for v in lengths)
    if not xs:
        return dict.fromkeys(SUMMARY_KEYS, 0.0)
    return {
        "min": xs[0],
        "p50": percentile(xs, 0.5),
        "p90": percentile(xs, 0.9),
        "max": xs[-1],
        "mean": sum(xs) / len(xs),
    }


def counts(examples: Iterable[Example], key: Callable[[Example], str]) -> dict[str, int]:
    """Examples per value of ``key``, most common first (ties by name)."""
    c = Counter(key(ex) or "(none)" for ex in examples)
    return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))


def load_tokenizer(spec: str):
    """``builtin`` -> the built-in character tokenizer; else a local Hugging Face tokenizer directory.

    Never downloads and never runs repository code (``trust_remote_code=False``).
    """
    if spec == "builtin":
        from reasonsift.models.tokenizer import build_tokenizer

        return build_tokenizer()
    if not Path(spec).is_dir():
        raise ValueError(f"tokenizer: expected 'builtin' or a local tokenizer directory, got {spec!r}")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(spec, local_files_only=True, trust_remote_code=False)


def token_counter(tokenizer) -> Callable[[list[str]], list[int]]:
    """Texts -> token counts without special tokens (the trace alone, as profiling sees it)."""

    def count(texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]

    return count
