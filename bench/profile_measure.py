"""Timing, peak memory and agreement for one benchmark method.

Timing: one warm-up pass over the whole workload (it also triggers ``torch.compile``), then ``repeats``
timed passes; CUDA is synchronised before the clock starts and before it stops. Peak memory covers the
timed passes only: on CUDA ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats`` (weights
included, as the issue's reference numbers are); on CPU the peak RSS above the RSS after loading model and
data, which is only meaningful when each method runs in its own process (``profile_bench.py`` does that).
"""

from __future__ import annotations

import gc
import re
import resource
import statistics
import time
from dataclasses import dataclass

import torch

_KIB = 1024


@dataclass
class Measurement:
    method: str
    times_s: list[float]
    n_scored: int
    peak_bytes: int
    memory_kind: str  # what peak_bytes means, for the report
    entropy: torch.Tensor | None  # [n_scored] on the CPU, None for backbone_only
    logprob: torch.Tensor | None

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s)

    @property
    def tokens_per_s(self) -> float:
        return self.n_scored / self.median_s


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def current_rss_bytes() -> int:
    with open("/proc/self/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) * _KIB


def reset_peak_rss() -> bool:
    """Reset the kernel's RSS high-water mark (Linux >= 4.0), so ``ru_maxrss`` covers only what follows.

    Without it a transient peak while loading the model could hide the method's own peak.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _KIB  # Linux reports KiB


def _run_all(fn, runner, batches) -> list:
    return [fn(runner, b) for b in batches]


def measure(name: str, fn, runner, batches, *, repeats: int, device: torch.device) -> Measurement:
    """Warm up, then time ``repeats`` passes of ``fn`` over ``batches`` (already on ``device``)."""
    if repeats < 1:
        raise ValueError(f"repeats: must be >= 1, got {repeats}")
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    else:
        base_rss = current_rss_bytes()
    with torch.inference_mode():
        outs = _run_all(fn, runner, batches)  # warm-up
        del outs
        gc.collect()
        if device.type == "cuda":
            _sync(device)
            torch.cuda.reset_peak_memory_stats(device)
        else:
            reset_ok = reset_peak_rss()
        times = []
        for _ in range(repeats):
            outs = None  # free the previous pass's outputs before the next one allocates
            _sync(device)
            t0 = time.perf_counter()
            outs = _run_all(fn, runner, batches)
            _sync(device)
            times.append(time.perf_counter() - t0)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device)
        kind = "cuda max_memory_allocated (weights included)"
    else:
        peak = peak_rss_bytes() - base_rss
        kind = "peak RSS above RSS after load" + ("" if reset_ok else " (peak not reset: upper bound)")
    n = sum(int(b.score_mask.sum()) for b in batches)
    ent = lp = None
    if outs[0][1] is not None:
        ent = torch.cat([o[0] for o in outs]).float().cpu()
        lp = torch.cat([o[1] for o in outs]).float().cpu()
    return Measurement(name, times, n, peak, kind, ent, lp)


def max_abs_diffs(results: list[Measurement], reference: str) -> dict[str, tuple[float, float]]:
    """``{method: (max |Δentropy|, max |Δlogprob|)}`` against ``reference`` for every scoring method."""
    ref = next(m for m in results if m.method == reference)
    out = {}
    for m in results:
        if m.entropy is None or m.method == reference:
            continue
        if m.entropy.shape != ref.entropy.shape:
            raise AssertionError(
                f"{m.method}: {m.entropy.shape[0]} scored tokens, {reference}: {ref.entropy.shape[0]}"
            )
        out[m.method] = (
            (m.entropy - ref.entropy).abs().max().item(),
            (m.logprob - ref.logprob).abs().max().item(),
        )
    return out


def tolerance(dtype: torch.dtype) -> float:
    """Max abs difference (nats) allowed between methods.

    fp32 differences come only from summation order. In bf16 the padded and unpadded forwards round
    differently and TRL's non-fused path keeps bf16 logits; bf16 has 8 mantissa bits (relative 2^-8), and
    log-probs of a 150k vocabulary are ~ -12, so ~0.05 per value, with margin for the 24-layer stack.
    """
    return 2e-3 if dtype == torch.float32 else 0.25
