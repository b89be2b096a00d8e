"""Results of ``profile_bench.py`` as a Markdown table inside ``docs/benchmarks.md`` (and as JSON).

The file is shared: this module only touches the ``## Profile engine`` section, and inside it only the block
between ``<!-- profile-bench:<model>:<device> -->`` markers, so rerunning a config replaces its own table
(idempotent) and leaves other configs and other sections alone.
"""

from __future__ import annotations

import datetime as dt
import platform
import re
import subprocess
from importlib import metadata

SECTION = "## Profile engine"
GIB = 2**30


def machine_info(device: str) -> dict[str, str]:
    info = {"python": platform.python_version()}
    for pkg in ("torch", "transformers", "trl"):
        try:
            info[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            info[pkg] = "not installed"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        model = re.search(r"Model name:\s+(.+)", out)
        info["cpu"] = model.group(1).strip() if model else platform.processor()
        cpus = re.search(r"^CPU\(s\):\s+(\d+)", out, re.M)
        info["cpu_cores"] = cpus.group(1) if cpus else "?"
    except (OSError, subprocess.SubprocessError):
        info["cpu"], info["cpu_cores"] = platform.processor() or "?", "?"
    if device == "cuda":
        import torch

        info["gpu"] = torch.cuda.get_device_name(0)
    info["date"] = dt.date.today().isoformat()
    return info


def _fmt_mem(b: int) -> str:
    return f"{b / GIB:.2f} GiB" if b >= GIB / 4 else f"{b / 2**20:.0f} MiB"


def _fmt_ratio(x: float) -> str:
    return "—" if x != x else f"{x:.2f}"  # nan when the baseline was not measured


def render_table(result: dict) -> str:
    """The Markdown block for one run (``result`` is what ``profile_bench.run`` returns)."""
    env, cfg = result["env"], result["config"]
    lines = [
        f"#### {cfg['model']} on {cfg['device']}",
        "",
        f"Command: `{result['command']}`",
        "",
        f"Model: {result['model_description']}; dtype {cfg['dtype']}, attention {cfg['attn']}, "
        f"{result['threads']} torch threads. "
        f"Data: {result['workload']} ({result['n_scored']} scored tokens per pass). "
        f"Median of {cfg['repeats']} timed passes after one warm-up.",
        "",
        f"Machine: {env.get('gpu', env['cpu'])}"
        + ("" if "gpu" in env else f", {env['cpu_cores']} CPUs")
        + f"; python {env['python']}, torch {env['torch']}, transformers {env['transformers']}, "
        f"trl {env['trl']}; {env['date']}; load average {env.get('loadavg_1m', '?')}.",
    ]
    if cfg.get("note"):
        lines += ["", f"Note: {cfg['note']}"]
    lines += [
        "",
        "| method | tokens/s | x per_example_fp32 | x backbone_only | peak memory | max abs diff H / log p |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in result["methods"]:
        diff = row.get("max_abs_diff")
        diff_s = f"{diff[0]:.1e} / {diff[1]:.1e}" if diff else ("reference" if row["reference"] else "—")
        lines.append(
            f"| {row['method']} | {row['tokens_per_s']:,.0f} | {_fmt_ratio(row['x_per_example'])} | "
            f"{_fmt_ratio(row['x_backbone'])} | {_fmt_mem(row['peak_bytes'])} | {diff_s} |"
        )
    if result.get("skipped_oom"):
        lines.append(f"| {', '.join(result['skipped_oom'])} | out of memory | | | | |")
    lines += ["", f"Peak memory: {result['memory_kind']}."]
    if result.get("targets"):
        lines += [""] + [f"- Target: {t}" for t in result["targets"]]
    return "\n".join(lines)


def _markers(key: str) -> tuple[str, str]:
    return f"<!-- profile-bench:{key}:start -->", f"<!-- profile-bench:{key}:end -->"


def replace_block(doc: str, key: str, block: str, section_intro: str) -> str:
    """``doc`` with the block ``key`` of the Profile engine section set to ``block``.

    Creates the section (with ``section_intro``) at the end if absent; appends the block at the end of the
    section if new; otherwise replaces it in place. Text outside the block is kept byte for byte.
    """
    start, end = _markers(key)
    wrapped = f"{start}\n{block.strip()}\n{end}"
    if start in doc and end in doc:
        i, j = doc.index(start), doc.index(end) + len(end)
        return doc[:i] + wrapped + doc[j:]
    if SECTION not in doc:
        sep = "" if not doc else ("\n" if doc.endswith("\n\n") else ("\n" if doc.endswith("\n") else "\n\n"))
        return f"{doc}{sep}{SECTION}\n\n{section_intro.strip()}\n\n{wrapped}\n"
    # Insert before the next level-2 heading after the section (or at the end of the file).
    s = doc.index(SECTION) + len(SECTION)
    nxt = re.search(r"^## ", doc[s:], re.M)
    cut = s + nxt.start() if nxt else len(doc)
    head, tail = doc[:cut].rstrip("\n"), doc[cut:]
    return f"{head}\n\n{wrapped}\n" + ("\n" + tail if tail else "")
