"""The data card of a selection: what the pool was, what was kept, and which stage dropped what.

``card.md`` and ``card.html`` (every value HTML-escaped) hold the per-stage counts and the distributions
before and after selection of the domain, the difficulty (``meta["difficulty"]``), the trace length (in
characters), the mean token entropy ``H_mean`` and ``ifd`` (the last two where a profile run was joined);
``card/distributions.png`` plots the numeric ones.
"""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from reasonsift.utils.io import atomic_path, atomic_write_text

NUMERIC = (("trace length (chars)", lambda r: len(r.get("trace") or "")), ("H_mean", None), ("ifd", None))
PLOT = "card/distributions.png"


def _values(records: list[dict], name: str, get) -> list[float]:
    vals = (get(r) if get else r.get(name) for r in records)
    return [float(v) for v in vals if v is not None and np.isfinite(float(v))]


def _summary(vals: list[float]) -> str:
    if not vals:
        return "-"
    q = np.percentile(vals, [10, 50, 90])
    return f"n {len(vals)}, mean {np.mean(vals):.3g}, p10 {q[0]:.3g}, p50 {q[1]:.3g}, p90 {q[2]:.3g}"


def _counts(records: list[dict], key) -> Counter:
    return Counter(str(key(r)) for r in records)


def card_tables(before: list[dict], after: list[dict], stages: list[dict]) -> list[tuple[str, list, list]]:
    """(title, header, rows) of every table of the card."""
    tables = [
        (
            "Stages",
            ["stage", "in", "kept", "dropped"],
            [[s["stage"], s["in"], s["kept"], s["dropped"]] for s in stages],
        )
    ]
    for title, key in (
        ("Domain", lambda r: r.get("domain") or "(none)"),
        ("Difficulty (meta difficulty)", lambda r: (r.get("meta") or {}).get("difficulty", "(none)")),
    ):
        b, a = _counts(before, key), _counts(after, key)
        rows = [
            [k, b[k], f"{b[k] / max(len(before), 1):.1%}", a[k], f"{a[k] / max(len(after), 1):.1%}"]
            for k in sorted(b, key=lambda k: (-b[k], k))
        ]
        tables.append((title, ["value", "before", "share", "after", "share"], rows))
    rows = []
    for name, get in NUMERIC:
        vb, va = _values(before, name, get), _values(after, name, get)
        if vb:
            rows.append([name, _summary(vb), _summary(va)])
    tables.append(("Distributions", ["column", "before", "after"], rows))
    return tables


def _plot(root: Path, before: list[dict], after: list[dict]) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = [(n, g) for n, g in NUMERIC if _values(before, n, g)]
    if not cols:
        return False
    fig, axes = plt.subplots(1, len(cols), figsize=(4 * len(cols), 3), squeeze=False)
    for ax, (name, get) in zip(axes[0], cols, strict=True):
        vb, va = _values(before, name, get), _values(after, name, get)
        bins = np.histogram_bin_edges(vb, bins=30)
        ax.hist(vb, bins=bins, alpha=0.5, density=True, label=f"before ({len(vb)})")
        if va:
            ax.hist(va, bins=bins, alpha=0.5, density=True, label=f"after ({len(va)})")
        ax.set_title(name)
        ax.legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(root / PLOT) as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    plt.close(fig)
    return True


def write_card(
    root: Path, before: list[dict], after: list[dict], stages: list[dict], *, title: str, **facts: Any
) -> None:
    """Write ``card.md``, ``card.html`` and the plot into ``root``."""
    tables = card_tables(before, after, stages)
    plotted = _plot(root, before, after)
    head = [f"read {len(before)}, kept {len(after)}, dropped {len(before) - len(after)}"]
    head += [f"{k}: {v}" for k, v in facts.items()]

    md = [f"# {title}", "", *(f"- {h}" for h in head), ""]
    for name, header, rows in tables:
        md += [f"## {name}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        md += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
        md.append("")
    if plotted:
        md += ["## Plots", "", f"![distributions before and after]({PLOT})", ""]
    atomic_write_text(root / "card.md", "\n".join(md))

    e = html.escape
    h = [f"<!doctype html><meta charset='utf-8'><title>{e(title)}</title>", f"<h1>{e(title)}</h1><ul>"]
    h += [f"<li>{e(str(x))}</li>" for x in head] + ["</ul>"]
    for name, header, rows in tables:
        h.append(f"<h2>{e(name)}</h2><table border='1' cellpadding='3'><tr>")
        h += [f"<th>{e(str(c))}</th>" for c in header] + ["</tr>"]
        h += ["<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in rows]
        h.append("</table>")
    if plotted:
        h.append(f"<h2>Plots</h2><img src='{PLOT}' alt='distributions before and after'>")
    atomic_write_text(root / "card.html", "\n".join(h) + "\n")
