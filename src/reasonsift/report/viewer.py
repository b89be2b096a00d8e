"""``render_viewer``: a profile run directory -> one self-contained static HTML token viewer.

The page embeds its data as JSON (``payload.script_json``) and builds every data-bearing DOM node with
``textContent``/``createElement`` (``viewer.js``), so text from traces can never become markup. A
Content-Security-Policy allows only the page's own script (by hash) and no network at all.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from collections.abc import Callable
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from reasonsift.report.colormap import LOG_FLOOR, STOPS
from reasonsift.report.dataset import dataset_plots, summarize_entropy
from reasonsift.report.load import RunData, load_run
from reasonsift.report.payload import StringTable, clean, example_record, script_json
from reasonsift.utils.io import atomic_write_text

_PLACEHOLDER = re.compile(r"\{\{(TITLE|CSP|CSS|PLOTS|DATA|JS)\}\}")


def _asset(name: str) -> str:
    return resources.files("reasonsift.report").joinpath(name).read_text(encoding="utf-8")


def _csp(js: str) -> str:
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    return f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; img-src data:"


def fill_template(template: str, parts: dict[str, str]) -> str:
    """Replace ``{{NAME}}`` placeholders in ONE pass, so inserted text is never scanned for placeholders."""
    return _PLACEHOLDER.sub(lambda m: parts[m.group(1)], template)


def build_payload(data: RunData) -> tuple[dict[str, Any], np.ndarray]:
    """The page's JSON object and the concatenated entropies of all examples (for the dataset plots)."""
    h_all = np.concatenate([np.asarray(h, dtype=np.float64) for h in data.entropy_all] or [np.zeros(0)])
    h_all = np.where(np.isfinite(h_all), h_all, np.nan)
    summary = summarize_entropy(h_all)
    # The dataset pool's tau (one number; batch and sequence pools have one per batch / example).
    taus = data.stats.get("tau")
    tau = taus.get("dataset") if isinstance(taus, dict) else data.stats.get("forking_threshold")
    tau = float(tau) if isinstance(tau, int | float) and math.isfinite(tau) else None
    pool = data.stats.get("forking_pool") or "dataset"
    # Colour scale top: the 99th percentile, so one extreme token does not wash out the rest.
    h_max = max(summary.p99 if math.isfinite(summary.p99) else 0.0, tau or 0.0, LOG_FLOOR * 100)
    table = StringTable()
    columns = list(data.scores)
    examples, warnings = [], []
    for row in data.rows:
        rec, warn = example_record(row, table, columns, data.forking.get(str(row.get("id"))))
        examples.append(rec)
        warnings += warn
    chosen = [m[pool] for m in data.forking.values() if pool in m]  # the --pool mask, named by its pool
    fork_total = sum(len(m) for m in chosen)
    fork_tokens = sum(sum(bool(x) for x in m) for m in chosen)
    model = data.manifest.get("model") or data.manifest.get("model_id") or ""
    student = (data.manifest.get("models") or {}).get("student")
    if not model and isinstance(
        student, dict
    ):  # the profiler's manifest: {"models": {"student": {"name": ...}}}
        model = student.get("name", "")
    meta = {
        "run": data.run_dir.resolve().name,
        "model": model if isinstance(model, str) else str(model),
        "n_examples": data.n_examples,
        "n_shown": len(examples),
        "n_omitted": data.n_examples - len(examples),
        "n_rejects": data.n_rejects,
        "shards": data.shards,
        "incomplete": data.incomplete,  # shown as a banner: this page is not the whole run
        "tau": tau,
        "pool": pool,
        "h_max": clean(h_max),
        "log_floor": LOG_FLOOR,
        "stops": list(STOPS),
        "warnings": warnings[:50] + ([f"... and {len(warnings) - 50} more"] if len(warnings) > 50 else []),
        "summary": {
            "n_tokens": summary.n_tokens,
            "H_mean": clean(summary.mean),
            "H_p50": clean(summary.p50),
            "H_p99": clean(summary.p99),
            "share_below_0_01": clean(summary.share_below_0_01),
            "forking_share": clean(fork_tokens / fork_total) if fork_total else None,
        },
    }
    return {"meta": meta, "columns": columns, "S": table.strings, "examples": examples}, h_all


def render_html(data: RunData) -> str:
    """The viewer page for ``data`` as one HTML string."""
    payload, h_all = build_payload(data)
    meta = payload["meta"]
    plots = dataset_plots(h_all, data.scores, meta["tau"], float(meta["h_max"]))
    js = _asset("viewer.js")
    if "</script" in js.lower():
        raise ValueError("viewer.js: must not contain '</script' (it is inlined)")
    return fill_template(
        _asset("viewer.html"),
        {
            "TITLE": escape(f"reasonsift · {meta['run']}"),
            "CSP": escape(_csp(js)),
            "CSS": _asset("viewer.css"),
            "PLOTS": "\n".join(f'<figure class="plot">{svg}</figure>' for svg in plots),
            "DATA": script_json(payload),
            "JS": js,
        },
    )


def render_viewer(
    run_dir: str | Path,
    out_path: str | Path,
    *,
    max_examples: int | None = None,
    on_shard: Callable[[int, int], None] | None = None,
    on_incomplete: Callable[[list[str]], None] | None = None,
) -> Path:
    """Write the token viewer of profile run ``run_dir`` to ``out_path`` (atomically); return the path.

    ``max_examples`` keeps the first N examples (input order) in the page; the dataset plots still cover
    all of them and the page says how many were omitted. ``on_shard(done, total)`` reports reading progress;
    ``on_incomplete(notes)`` is called when the run is not whole (the page shows the notes as a banner).
    """
    data = load_run(run_dir, max_examples=max_examples, on_shard=on_shard)
    if data.incomplete and on_incomplete is not None:
        on_incomplete(data.incomplete)
    out = Path(out_path)
    atomic_write_text(out, render_html(data))
    return out
