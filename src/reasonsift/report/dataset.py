"""Dataset-level numbers and plots of a profile run: entropy histogram and CDF, IFD and score distributions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reasonsift.report.colormap import LOG_FLOOR
from reasonsift.report.plots import cdf_svg, histogram_svg

# Wang et al. (2506.01939) report the share of CoT tokens below H = 0.01 nats (about half).
LOW_H = 0.01


@dataclass(frozen=True)
class EntropySummary:
    n_tokens: int
    mean: float
    p50: float
    p80: float
    p99: float
    share_below_0_01: float


def summarize_entropy(h: np.ndarray) -> EntropySummary:
    """Summary over all scored tokens. h: (n_tokens,) entropies in nats; NaNs are dropped."""
    h = h[np.isfinite(h)]
    if h.size == 0:
        return EntropySummary(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    p50, p80, p99 = np.quantile(h, [0.5, 0.8, 0.99])
    return EntropySummary(
        n_tokens=int(h.size),
        mean=float(h.mean()),
        p50=float(p50),
        p80=float(p80),
        p99=float(p99),
        share_below_0_01=float((h < LOW_H).mean()),
    )


def log_histogram(h: np.ndarray, n_bins: int = 36, floor: float = LOG_FLOOR) -> tuple[list[int], list[float]]:
    """Counts of ``h`` in ``n_bins`` log-spaced bins from ``floor`` to max(h).

    Values below ``floor`` (incl. 0) go to the first bin, so every token is counted: sum(counts) == h.size.
    """
    if n_bins < 1:
        raise ValueError(f"n_bins: must be >= 1, got {n_bins}")
    h = h[np.isfinite(h)]
    top = max(float(h.max()) if h.size else 1.0, floor * 10)
    edges = np.logspace(math.log10(floor), math.log10(top), n_bins + 1)
    counts, _ = np.histogram(np.clip(h, floor, top), bins=edges)
    return counts.astype(int).tolist(), edges.tolist()


def cdf_points(
    h: np.ndarray, n_points: int = 160, floor: float = LOG_FLOOR
) -> tuple[list[float], list[float]]:
    """Empirical CDF F(x) = share of h <= x at ``n_points`` log-spaced x from ``floor`` to max(h)."""
    h = np.sort(h[np.isfinite(h)])
    top = max(float(h[-1]) if h.size else 1.0, floor * 10)
    xs = np.logspace(math.log10(floor), math.log10(top), n_points)
    ys = np.searchsorted(h, xs, side="right") / max(h.size, 1)
    return xs.tolist(), ys.tolist()


def finite(values: Sequence[object]) -> np.ndarray:
    """The finite numbers among ``values`` (None, NaN, bools dropped), as float64."""
    out = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    arr = np.asarray(out, dtype=np.float64)
    return arr[np.isfinite(arr)]


def linear_histogram(values: np.ndarray, n_bins: int | None = None) -> tuple[list[int], list[float]]:
    """Counts over ``n_bins`` equal bins spanning the values (default: 2 sqrt(n), between 6 and 40)."""
    if n_bins is None:
        n_bins = int(min(40, max(6, 2 * math.sqrt(values.size))))
    lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(values, bins=n_bins, range=(lo, hi))
    return counts.astype(int).tolist(), edges.tolist()


def dataset_plots(
    h: np.ndarray, scores: dict[str, list[object]], tau: float | None, h_max: float
) -> list[str]:
    """The dataset panel's SVGs: entropy histogram + CDF (log x) and the per-example score distributions."""
    out: list[str] = []
    marks = [(LOW_H, "H = 0.01")]
    if tau is not None and math.isfinite(tau) and tau > 0:
        marks.append((tau, f"τ = {tau:.3g}"))
    if h.size:
        counts, edges = log_histogram(h)
        out.append(
            histogram_svg(
                counts,
                edges,
                title=f"Token entropy (H < {LOG_FLOOR:g} in first bar)",
                xlabel="H (nats, log scale)",
                ylabel="tokens",
                log_x=True,
                colour_by_x=(h_max, True),
                markers=marks,
            )
        )
        xs, ys = cdf_points(h)
        out.append(
            cdf_svg(
                xs, ys, title="Token entropy CDF", xlabel="H (nats, log scale)", log_x=True, markers=marks
            )
        )
    for col, title, mark in (
        ("ifd", "IFD = s(A|Q) / s(A)", (1.0, "IFD = 1")),
        ("r_ifd", "r-IFD = PPL(Q|A) / PPL(Q)", (1.0, "r-IFD = 1")),
        ("info_gain", "Information gain per example", None),
        ("H_mean", "Mean token entropy per example", None),
    ):
        vals = finite(scores.get(col, []))
        if vals.size == 0:
            continue
        counts, edges = linear_histogram(vals)
        out.append(
            histogram_svg(
                counts, edges, title=title, xlabel=col, ylabel="examples", markers=[mark] if mark else []
            )
        )
    return out
