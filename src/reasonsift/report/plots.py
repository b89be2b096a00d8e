"""Small inline-SVG charts (histogram, CDF) for the dataset panel: no matplotlib, a few KB each.

Every piece of text goes through ``html.escape``; numbers are formatted here, never taken from the data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from reasonsift.report.colormap import colour_at, scale_position

W, H = 380, 210
ML, MR, MT, MB = 48, 12, 26, 38  # margins: room for tick labels and the axis title
PW, PH = W - ML - MR, H - MT - MB


def fmt_num(x: float) -> str:
    """Short tick label: 0.001, 0.01, 0.5, 12, 3.4k."""
    if x == 0:
        return "0"
    a = abs(x)
    if a >= 1000:
        return f"{x / 1000:.3g}k"
    if a >= 0.01:
        return f"{x:.3g}"
    return f"{x:.0e}".replace("e-0", "e-")


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round ticks (1, 2, 5 x 10^k steps) covering [lo, hi]."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, n)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step - 1e-9) * step
    return [round(start + i * step, 12) for i in range(int((hi - start) / step + 1e-9) + 1)]


def log_ticks(lo: float, hi: float) -> list[float]:
    """Powers of ten within [lo, hi]."""
    return [10.0**k for k in range(math.ceil(math.log10(lo) - 1e-9), math.floor(math.log10(hi) + 1e-9) + 1)]


class _Axis:
    """Maps data x to pixels, linear or log10."""

    def __init__(self, lo: float, hi: float, log: bool):
        if log and lo <= 0:
            raise ValueError(f"lo: log axis needs lo > 0, got {lo}")
        self.log = log
        self.lo, self.hi = (math.log10(lo), math.log10(hi)) if log else (lo, hi)
        if self.hi <= self.lo:
            self.hi = self.lo + 1.0

    def px(self, x: float) -> float:
        v = math.log10(max(x, 1e-300)) if self.log else x
        return ML + (v - self.lo) / (self.hi - self.lo) * PW

    def ticks(self) -> list[float]:
        lo, hi = (10**self.lo, 10**self.hi) if self.log else (self.lo, self.hi)
        return log_ticks(lo, hi) if self.log else nice_ticks(lo, hi)


def _frame(
    title: str, xlabel: str, ylabel: str, xaxis: _Axis, y_ticks: Sequence[tuple[float, str]]
) -> list[str]:
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" '
        f'class="chart" role="img" aria-label="{escape(title)}">',
        f'<text x="{ML}" y="15" class="ct">{escape(title)}</text>',
        f'<line x1="{ML}" y1="{MT + PH}" x2="{ML + PW}" y2="{MT + PH}" class="ax"/>',
        f'<line x1="{ML}" y1="{MT}" x2="{ML}" y2="{MT + PH}" class="ax"/>',
        f'<text x="{ML + PW / 2:.1f}" y="{H - 4}" class="al" text-anchor="middle">{escape(xlabel)}</text>',
        f'<text x="11" y="{MT + PH / 2:.1f}" class="al" text-anchor="middle" '
        f'transform="rotate(-90 11 {MT + PH / 2:.1f})">{escape(ylabel)}</text>',
    ]
    for t in xaxis.ticks():
        x = xaxis.px(t)
        if ML - 0.5 <= x <= ML + PW + 0.5:
            out.append(f'<line x1="{x:.1f}" y1="{MT + PH}" x2="{x:.1f}" y2="{MT + PH + 4}" class="ax"/>')
            out.append(
                f'<text x="{x:.1f}" y="{MT + PH + 15}" class="tl" text-anchor="middle">{fmt_num(t)}</text>'
            )
    for y, label in y_ticks:
        out.append(f'<line x1="{ML - 4}" y1="{y:.1f}" x2="{ML + PW}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{ML - 6}" y="{y + 3:.1f}" class="tl" text-anchor="end">{escape(label)}</text>')
    return out


def _markers(xaxis: _Axis, markers: Sequence[tuple[float, str]]) -> list[str]:
    out = []
    for k, (mx, label) in enumerate(markers):
        x = xaxis.px(mx)
        if not (ML <= x <= ML + PW) or not math.isfinite(x):
            continue
        anchor = "end" if x > ML + PW * 0.6 else "start"
        dx = -3 if anchor == "end" else 3
        out.append(f'<line x1="{x:.1f}" y1="{MT}" x2="{x:.1f}" y2="{MT + PH}" class="mk"/>')
        out.append(
            f'<text x="{x + dx:.1f}" y="{MT + 10 + 11 * k}" class="ml" text-anchor="{anchor}">{escape(label)}</text>'
        )
    return out


def histogram_svg(
    counts: Sequence[int],
    edges: Sequence[float],
    *,
    title: str,
    xlabel: str,
    ylabel: str = "count",
    log_x: bool = False,
    colour_by_x: tuple[float, bool] | None = None,
    markers: Sequence[tuple[float, str]] = (),
) -> str:
    """Bars for ``counts`` over bins ``edges`` (len(counts) + 1).

    ``colour_by_x=(h_max, log)`` fills each bar with the entropy colour of its bin centre (the token legend).
    """
    if len(edges) != len(counts) + 1:
        raise ValueError(f"edges: need len(counts) + 1 = {len(counts) + 1} edges, got {len(edges)}")
    xaxis = _Axis(edges[0], edges[-1], log_x)
    top = max(max(counts, default=0), 1)
    yt = nice_ticks(0, top, 4)
    y_max = max(top, yt[-1])

    def py(v: float) -> float:
        return MT + PH - v / y_max * PH

    out = _frame(title, xlabel, ylabel, xaxis, [(py(t), fmt_num(t)) for t in yt])
    for c, a, b in zip(counts, edges[:-1], edges[1:], strict=True):
        if c <= 0:
            continue
        x0, x1 = xaxis.px(a), xaxis.px(b)
        fill = "#6b7fd7"
        if colour_by_x is not None:
            mid = math.sqrt(a * b) if log_x else (a + b) / 2
            fill = colour_at(scale_position(mid, *colour_by_x))
        out.append(
            f'<rect x="{x0:.1f}" y="{py(c):.1f}" width="{max(x1 - x0 - 0.6, 0.6):.1f}" '
            f'height="{MT + PH - py(c):.1f}" fill="{fill}" class="bar"><title>{fmt_num(a)}–{fmt_num(b)}: '
            f"{c}</title></rect>"
        )
    out += _markers(xaxis, markers)
    out.append("</svg>")
    return "".join(out)


def cdf_svg(
    xs: Sequence[float],
    ys: Sequence[float],
    *,
    title: str,
    xlabel: str,
    log_x: bool = False,
    markers: Sequence[tuple[float, str]] = (),
) -> str:
    """Step line through points ``(xs[i], ys[i])``, ys in [0, 1] (an empirical CDF)."""
    if len(xs) != len(ys) or not xs:
        raise ValueError(f"xs/ys: need equal, non-zero lengths, got {len(xs)} and {len(ys)}")
    xaxis = _Axis(xs[0], xs[-1], log_x)

    def py(v: float) -> float:
        return MT + PH - v * PH

    out = _frame(
        title, xlabel, "share of tokens ≤ x", xaxis, [(py(t), f"{t:.0%}") for t in (0, 0.25, 0.5, 0.75, 1)]
    )
    pts = " ".join(f"{xaxis.px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys, strict=True))
    out.append(f'<polyline points="{pts}" class="cdf"/>')
    out += _markers(xaxis, markers)
    out.append("</svg>")
    return "".join(out)
