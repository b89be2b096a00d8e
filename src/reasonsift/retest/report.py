"""``verdicts.json``, ``report.md`` and ``report.html`` of a re-test run (every text escaped in the HTML)."""

from __future__ import annotations

import base64
import html
import io
import math
from typing import Any

PLANNED = ("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "s1", "limo")


def _pct(x: float | None, unit: str = "fraction") -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{100 * x:.1f}" if unit == "fraction" else f"{x:.4g}"


def _units(e: dict) -> tuple[str, str]:
    """(the metric's column suffix, the effect's unit) of an entry."""
    return (" (%)", "points") if e.get("unit", "fraction") == "fraction" else ("", e.get("metric", ""))


def _d(x: float | None) -> str:
    """Cohen's d, ``n/a`` when undefined (NaN in memory, null once read back from verdicts.json)."""
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.2f}"


def _effect(e: dict) -> str:
    """The summary table's effect: points for a difference of fractions, else the value and its measure."""
    u, x = e.get("unit", "fraction"), e.get("effect")
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{_pct(x, u)} pts" if u == "fraction" else f"{_pct(x, u)} ({e.get('metric', '')})"


def _ci(s: dict, unit: str = "fraction") -> str:
    return f"{_pct(s['mean'], unit)} [{_pct(s['ci_low'], unit)}, {_pct(s['ci_high'], unit)}]"


def _arm_row(name: str, a: dict, unit: str = "fraction") -> tuple[str, str, str, str]:
    m = a["metric"]
    seeds = ", ".join(_pct(v, unit) for v in m["per_seed"])
    return name, _ci(m, unit), seeds, a.get("what", "")


def _other_metrics(e: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the further metrics' table (as fractions, percent), empty when there are none."""
    names = sorted({m for a in e["arms"].values() for m in a.get("metrics", {})})
    rows = [
        [arm, *(_ci(a["metrics"][m]) if m in a.get("metrics", {}) else "" for m in names)]
        for arm, a in e["arms"].items()
        if a.get("metrics")
    ]
    return names, rows


def plot_png(entry: dict[str, Any]) -> bytes:
    """Arm means with their 95% CIs (percent), as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(entry["arms"])
    k = 100 if entry.get("unit", "fraction") == "fraction" else 1
    means = [k * entry["arms"][n]["metric"]["mean"] for n in names]
    lo = [m - k * entry["arms"][n]["metric"]["ci_low"] for m, n in zip(means, names, strict=True)]
    hi = [k * entry["arms"][n]["metric"]["ci_high"] - m for m, n in zip(means, names, strict=True)]
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * len(names), 3.2), dpi=100)
    colors = ["#888888" if n == "base" else "#3b6ea8" for n in names]
    ax.bar(range(len(names)), means, yerr=[lo, hi], capsize=4, color=colors)
    ax.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(entry["metric"] + (" (%)" if k == 100 else ""))
    ax.set_title(f"{entry['id']}: {entry['verdict']}", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def markdown(verdicts: dict[str, dict], manifest: dict) -> str:
    lines = ["# reasonsift re-test report", ""]
    lines += ["| claim | verdict | effect | 95% CI | rule |", "|---|---|---|---|---|"]
    for cid, e in verdicts.items():
        u = e.get("unit", "fraction")
        lines.append(
            f"| {cid} | {e['verdict']} | {_effect(e)} | [{_pct(e['ci_low'], u)}, "
            f"{_pct(e['ci_high'], u)}] | {e['rule']} |"
        )
    missing = [c for c in PLANNED if c not in verdicts]
    if missing:
        lines += ["", f"Not run here: {', '.join(missing)}."]
    for cid, e in verdicts.items():
        lines += ["", f"## {cid} — {e['title']}", "", f"**Claim (as the note states it).** {e['claim']}", ""]
        lines += [f"**Source.** {e['source']}", ""]
        if e["attribution_note"]:
            lines += [f"**Attribution.** {e['attribution_note']}", ""]
        lines += [f"**Rule (written before running).** {e['rule']}", ""]
        u = e.get("unit", "fraction")
        suffix, eu = _units(e)
        lines += [
            f"**Verdict: {e['verdict']}.** {e['rule_a']} - {e['rule_b']} = {_pct(e['effect'], u)} {eu}, 95% CI "
            f"[{_pct(e['ci_low'], u)}, {_pct(e['ci_high'], u)}], Cohen's d {_d(e['cohens_d'])}; "
            f"seeds {e['seeds']}.",
            "",
            f"| arm | {e['metric']}{suffix} [95% CI] | per seed | what |",
            "|---|---|---|---|",
        ]
        lines += ["| " + " | ".join(_arm_row(n, a, u)) + " |" for n, a in e["arms"].items()]
        names, rows = _other_metrics(e)
        if rows:
            lines += ["", "| arm | " + " | ".join(f"{m} (%)" for m in names) + " |",
                      "|---" * (len(names) + 1) + "|"]  # fmt: skip
            lines += ["| " + " | ".join(r) + " |" for r in rows]
        if e["comparisons"]:
            lines += ["", f"| comparison | difference ({eu}) | 95% CI | Cohen's d |", "|---|---|---|---|"]
            for c in e["comparisons"]:
                lines.append(
                    f"| {c['a']} - {c['b']} | {_pct(c['diff'], u)} | [{_pct(c['ci_low'], u)}, "
                    f"{_pct(c['ci_high'], u)}] | {_d(c['cohens_d'])} |"
                )
        lines += [""] + [f"- {n}" for n in e["notes"]] + [f"- {e['caveat']}", ""]
    lines += ["## Provenance", "", f"reasonsift {manifest.get('versions', {}).get('reasonsift', '?')}, git "
              f"{manifest.get('git_commit')}; inputs:"]  # fmt: skip
    lines += [f"- {i.get('path')}: sha256 {i.get('sha256')}" for i in manifest.get("inputs", [])]
    return "\n".join(lines) + "\n"


def page(verdicts: dict[str, dict], manifest: dict) -> str:
    """One static HTML page: a section per claim (escaped text, the plot as an embedded PNG)."""
    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>reasonsift re-test report</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}"
        ".supported{color:#1a7f37}.not{color:#b42318}.inconclusive{color:#9a6700}</style></head><body>",
        "<h1>reasonsift re-test report</h1><table><tr><th>claim</th><th>verdict</th><th>effect</th>"
        "<th>95% CI</th></tr>",
    ]
    for cid, e in verdicts.items():
        u = e.get("unit", "fraction")
        parts.append(
            f"<tr><td><a href='#{esc(cid)}'>{esc(cid)}</a></td><td class='{_cls(e['verdict'])}'>"
            f"{esc(e['verdict'])}</td><td>{esc(_effect(e))}</td><td>[{_pct(e['ci_low'], u)}, "
            f"{_pct(e['ci_high'], u)}]</td></tr>"
        )
    parts.append("</table>")
    missing = [c for c in PLANNED if c not in verdicts]
    if missing:
        parts.append(f"<p>Not run here: {esc(', '.join(missing))}.</p>")
    for cid, e in verdicts.items():
        png = base64.b64encode(plot_png(e)).decode()
        u = e.get("unit", "fraction")
        suffix, eu = _units(e)
        parts += [
            f"<section id='{esc(cid)}'><h2>{esc(cid)} — {esc(e['title'])}</h2>",
            f"<p><b>Claim (as the note states it).</b> {esc(e['claim'])}</p>",
            f"<p><b>Source.</b> {esc(e['source'])}</p>",
        ]
        if e["attribution_note"]:
            parts.append(f"<p><b>Attribution.</b> {esc(e['attribution_note'])}</p>")
        parts += [
            f"<p><b>Rule (written before running).</b> {esc(e['rule'])}</p>",
            f"<p class='{_cls(e['verdict'])}'><b>Verdict: {esc(e['verdict'])}.</b> {esc(e['rule_a'])} - "
            f"{esc(e['rule_b'])} = {_pct(e['effect'], u)} {esc(eu)}, 95% CI [{_pct(e['ci_low'], u)}, "
            f"{_pct(e['ci_high'], u)}]; seeds {esc(str(e['seeds']))}.</p>",
            f"<img alt='{esc(cid)} arms' src='data:image/png;base64,{png}'>",
            f"<table><tr><th>arm</th><th>{esc(e['metric'] + suffix)} [95% CI]</th><th>per seed</th>"
            "<th>what</th></tr>",
        ]
        for n, a in e["arms"].items():
            parts.append("<tr>" + "".join(f"<td>{esc(x)}</td>" for x in _arm_row(n, a, u)) + "</tr>")
        parts.append("</table>")
        names, rows = _other_metrics(e)
        if rows:
            parts.append(
                "<table><tr><th>arm</th>" + "".join(f"<th>{esc(m)} (%)</th>" for m in names) + "</tr>"
            )
            parts += ["<tr>" + "".join(f"<td>{esc(x)}</td>" for x in r) + "</tr>" for r in rows]
            parts.append("</table>")
        if e["comparisons"]:
            parts.append(f"<table><tr><th>comparison</th><th>difference ({esc(eu)})</th><th>95% CI</th></tr>")
            for c in e["comparisons"]:
                parts.append(
                    f"<tr><td>{esc(c['a'])} - {esc(c['b'])}</td><td>{_pct(c['diff'], u)}</td>"
                    f"<td>[{_pct(c['ci_low'], u)}, {_pct(c['ci_high'], u)}]</td></tr>"
                )
            parts.append("</table>")
        parts.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in [*e["notes"], e["caveat"]]) + "</ul>")
        parts.append("</section>")
    parts.append("<h2>Provenance</h2><ul>")
    parts += [
        f"<li>{esc(str(i.get('path')))}: sha256 {esc(str(i.get('sha256')))}</li>"
        for i in manifest.get("inputs", [])
    ]
    parts.append(f"</ul><p>git {esc(str(manifest.get('git_commit')))}</p></body></html>")
    return "\n".join(parts)


def _cls(verdict: str) -> str:
    return {"supported": "supported", "not supported": "not"}.get(verdict, "inconclusive")
