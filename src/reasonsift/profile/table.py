"""The end-of-run summary of a profile as a rich table (printed by ``reasonsift profile`` and the demo)."""

from __future__ import annotations


def summary_table(s: dict, title: str):
    """The end-of-run summary of a profile's ``stats.json`` as a rich table (also used by the demo)."""
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    ent = s.get("entropy", {})
    rows = [
        ("examples profiled", f"{s['n_profiled']} / {s['n_examples']}"),
        ("rejected (over context)", str(s["n_rejected"])),
        ("truncated (left)", str(s["n_truncated"])),
        ("scored tokens", str(s["scored_tokens"])),
        ("padding waste", f"{s['padding_waste']:.1%}"),
        ("tokens/s", f"{s.get('tokens_per_s', 0):.0f}"),
        (
            "H mean / p80 (nats)",
            f"{ent.get('H_mean', float('nan')):.3f} / {ent.get('H_p80', float('nan')):.3f}",
        ),
        (
            "share H < 0.01 (trace)",
            f"{s.get('entropy_trace', {}).get('frac_H_below_0_01', float('nan')):.1%}",
        ),
        ("forking tau, dataset pool", _num(s["tau"]["dataset"], ".4f")),
        (
            "forking tau, batch / sequence pools (median)",
            f"{_num(s['tau']['batch'].get('median'), '.4f')} / {_num(s['tau']['sequence'].get('median'), '.4f')}",
        ),
        (
            f"forking share in trace / answer ({s['forking_pool']} pool, rho={s['rho']})",
            f"{s['forking_share']['trace']:.1%} / {s['forking_share']['answer']:.1%}",
        ),
    ]
    if s["ifd"].get("n"):
        rows.append(("IFD mean (IFD > 1)", f"{s['ifd']['mean']:.3f} ({s['ifd_above_1']})"))
    if s["r_ifd"].get("n"):
        rows.append(("r-IFD mean", f"{s['r_ifd']['mean']:.3f}"))
    if s["info_gain"].get("n"):
        # InfoGain is in perplexity units (2506.02126) and heavy-tailed: show its median, and the mean NLL gain.
        ig_total = s.get("ig_total", {}).get("mean", float("nan"))
        rows.append(("InfoGain median (PPL units)", f"{s['info_gain']['median']:.4g}"))
        rows.append(("answer NLL gain of the steps, mean (nats)", f"{ig_total:.3f}"))
        rows.append(("post-hoc rationalisations", str(s["posthoc"])))
    if "compare" in s:
        rows.append(("forking overlap with compare model", f"{s['compare']['overlap_dataset_pool']:.1%}"))
    nulls = {m: sum(v.values()) for m, v in s.get("null_metrics", {}).items()}
    if any(nulls.values()):
        rows.append(
            (
                "null (question cut / over context): IFD, r-IFD, InfoGain",
                " / ".join(str(nulls[m]) for m in ("ifd", "r_ifd", "info_gain")),
            )
        )
    for r in rows:
        table.add_row(*r)
    return table


def _num(x, fmt: str) -> str:
    return "n/a" if x is None else format(x, fmt)
