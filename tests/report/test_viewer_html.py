"""The rendered page without a browser: escaping, embedded data, CSP hash, omitted count, CLI."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html import unescape

import pytest
from typer.testing import CliRunner
from viewer_fixtures import XSS_CLOSE, XSS_IMG, XSS_SCRIPT, sample_rows, write_run

from reasonsift.cli import app
from reasonsift.report.plots import cdf_svg, histogram_svg, nice_ticks
from reasonsift.report.viewer import fill_template, render_viewer


def _embedded(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="rs-data">(.*?)</script>', html, re.S)
    assert m is not None
    return json.loads(m.group(1))


def test_no_unescaped_payload_in_html(run_dir, tmp_path):
    html = render_viewer(run_dir, tmp_path / "v.html").read_text(encoding="utf-8")
    for payload in ("<script>window.__pwned", XSS_IMG, "<b>model</b>", "{{JS}}\\u003c"):
        assert payload not in html
    assert "\\u003cscript\\u003ewindow.__pwned=1\\u003c/script\\u003e" in html
    assert "\\u003cimg src=x onerror=" in html
    # Exactly two script elements (data + code) and the data one closes where the page says it does.
    assert html.count("<script") == 2 and html.count("</script>") == 2
    data = _embedded(html)
    ex1 = data["examples"][1]
    assert XSS_SCRIPT in ex1["q"] and "{{JS}}" in ex1["q"]  # placeholder text in data stays literal
    assert data["S"][ex1["t"][3]] == XSS_SCRIPT and data["S"][ex1["t"][4]] == XSS_IMG
    assert ex1["a"].endswith(XSS_CLOSE)
    assert "&lt;b&gt;model&lt;/b&gt;" not in html  # model name travels in JSON, not as markup
    assert data["meta"]["model"] == "builtin-tiny <b>model</b>"


def test_csp_hash_matches_inline_script_and_blocks_network(run_dir, tmp_path):
    html = render_viewer(run_dir, tmp_path / "v.html").read_text(encoding="utf-8")
    csp = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html).group(1))
    code = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp and "default-src 'none'" in csp
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing fetched from anywhere


def test_page_data_reflects_run(run_dir, tmp_path):
    data = _embedded(render_viewer(run_dir, tmp_path / "v.html", max_examples=4).read_text(encoding="utf-8"))
    meta = data["meta"]
    assert (meta["n_examples"], meta["n_shown"], meta["n_omitted"]) == (7, 4, 3)
    assert meta["tau"] == 0.5 and meta["n_rejects"] == 1
    rows = sample_rows()
    all_h = [h for r in rows for h in r["entropy"]]
    assert meta["summary"]["n_tokens"] == len(all_h)
    assert meta["summary"]["share_below_0_01"] == pytest.approx(
        sum(h < 0.01 for h in all_h) / len(all_h), abs=1e-3
    )
    assert meta["summary"]["forking_share"] == pytest.approx(
        sum(h >= 0.5 for h in all_h) / len(all_h), abs=1e-3
    )
    assert [e["id"] for e in data["examples"]] == ["ex-000", "ex-001", "ex-002", "ex-003"]
    assert data["columns"][:3] == ["n_tokens", "H_mean", "ifd"]


def test_minimal_run_renders(tmp_path):
    run = write_run(tmp_path / "run", sample_rows(3), optional=False, forking_file=False, tau=None)
    html = render_viewer(run, tmp_path / "v.html").read_text(encoding="utf-8")
    data = _embedded(html)
    assert data["columns"] == ["n_tokens"] and data["examples"][0]["fk"] == {}
    assert "ig" not in data["examples"][0] and data["meta"]["tau"] is None
    assert html.count("<svg") == 2  # entropy histogram + CDF only


def test_fill_template_is_single_pass():
    out = fill_template("{{TITLE}}|{{JS}}", {"TITLE": "{{JS}}", "JS": "code"})
    assert out == "{{JS}}|code"


def test_svg_plots_escape_text_and_scale_bars():
    svg = histogram_svg([1, 4, 0, 2], [0, 1, 2, 3, 4], title="<b>t</b>", xlabel="x&y")
    assert "<b>" not in svg and "&lt;b&gt;t&lt;/b&gt;" in svg and "x&amp;y" in svg
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]
    assert len(heights) == 3  # empty bins draw nothing
    assert heights[1] / heights[0] == pytest.approx(4, rel=0.02) and heights[2] / heights[0] == pytest.approx(
        2, rel=0.02
    )
    with pytest.raises(ValueError, match="edges"):
        histogram_svg([1], [0, 1, 2], title="t", xlabel="x")
    cdf = cdf_svg([0.001, 0.01, 1.0], [0.2, 0.5, 1.0], title="c", xlabel="H", log_x=True)
    assert cdf.count("<polyline") == 1
    assert nice_ticks(0, 10, 5) == [0, 2, 4, 6, 8, 10]


def test_cli_view(run_dir, tmp_path):
    out = tmp_path / "report.html"
    res = CliRunner().invoke(app, ["view", str(run_dir), "-o", str(out), "--max-examples", "2"])
    assert res.exit_code == 0, res.output
    assert _embedded(out.read_text(encoding="utf-8"))["meta"]["n_omitted"] == 5
    bad = CliRunner().invoke(app, ["view", str(tmp_path / "missing"), "-o", str(out)])
    assert bad.exit_code == 1 and "run directory not found" in " ".join(bad.output.split())
    assert "--max-examples" in CliRunner().invoke(app, ["view", "--help"]).output
