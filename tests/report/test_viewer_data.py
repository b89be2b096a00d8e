"""Reading a run directory, the page's JSON records and the dataset statistics, against plain references."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from viewer_fixtures import XSS_CLOSE, XSS_SCRIPT, make_row, sample_rows, write_run

from reasonsift.report.colormap import STOPS, colour_at, scale_position
from reasonsift.report.dataset import cdf_points, log_histogram, summarize_entropy
from reasonsift.report.load import load_run
from reasonsift.report.payload import StringTable, example_record, script_json


def test_load_reads_done_shards_in_order_and_skips_unfinished(run_dir):
    data = load_run(run_dir)
    assert data.shards == ["part-00000.parquet", "part-00001.parquet"]  # part-00002 has no .done
    assert [r["id"] for r in data.rows] == [f"ex-{i:03d}" for i in range(7)]
    assert data.n_examples == 7 and data.n_rejects == 1
    assert data.stats["tau"]["dataset"] == 0.5
    assert set(data.forking) == {r["id"] for r in data.rows}
    assert all(set(m) == {"dataset", "batch"} for m in data.forking.values())  # named by their pools


def test_load_max_examples_keeps_scores_of_all(run_dir):
    data = load_run(run_dir, max_examples=3)
    assert [r["id"] for r in data.rows] == ["ex-000", "ex-001", "ex-002"]
    assert data.n_examples == 7 and len(data.entropy_all) == 7 and len(data.scores["ifd"]) == 7
    ref = [r["ifd"] for r in sample_rows()]
    np.testing.assert_allclose(data.scores["ifd"], ref, rtol=1e-6)
    assert load_run(run_dir, max_examples=0).rows == []


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_run(tmp_path / "nope")
    (tmp_path / "run" / "examples").mkdir(parents=True)
    with pytest.raises(ValueError, match="no completed shards"):
        load_run(tmp_path / "run")
    with pytest.raises(ValueError, match="max_examples"):
        load_run(tmp_path / "run", max_examples=-1)


def test_load_tolerates_missing_optional_columns(tmp_path):
    run = write_run(tmp_path / "run", sample_rows(3), optional=False, forking_file=False, tau=None)
    data = load_run(run)
    assert set(data.scores) == {"n_tokens"} and data.forking == {} and data.stats == {}


def test_script_json_cannot_end_the_script_and_round_trips():
    obj = {"t": [XSS_SCRIPT, XSS_CLOSE, "a & b", "<!-- x", "line\u2028sep\u2029", "é ✓"]}
    text = script_json(obj)
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        assert bad not in text
    assert "\\u003c/script\\u003e" in text
    assert json.loads(text) == obj
    with pytest.raises(ValueError):
        script_json({"x": math.nan})


def test_string_table_interns():
    t = StringTable()
    ids = [t.index(s) for s in ["a", "b", "a", None, ""]]
    assert ids == [0, 1, 0, 2, 2] and t.strings == ["a", "b", ""]


def test_example_record_matches_row():
    row = make_row(0, "Q?", "1 + 1 = 2.\nSo 2.", "2")
    mask = [h >= 0.5 for h in row["entropy"]]
    table = StringTable()
    batch = [h >= 0.7 for h in row["entropy"]]
    rec, warn = example_record(row, table, ["n_tokens", "ifd"], {"dataset": mask, "batch": batch})
    assert warn == []
    assert [table.strings[i] for i in rec["t"]] == row["tokens"]
    assert rec["fk"]["dataset"] == [i for i, m in enumerate(mask) if m]
    assert rec["fk"]["batch"] == [i for i, m in enumerate(batch) if m]
    assert rec["fk"]["sequence"] == [i for i, m in enumerate(row["forking_sequence"]) if m]
    np.testing.assert_allclose(rec["H"], row["entropy"], atol=5e-5)
    np.testing.assert_allclose(rec["lp"], row["logprob"], atol=5e-4)
    assert rec["r"] == row["rank"] and rec["seg"] == row["segment"] and rec["step"] == row["step"]
    assert [[table.strings[i] for i in alts] for alts in rec["tt"]] == row["top_tokens"]
    assert rec["s"]["n_tokens"] == len(row["tokens"])
    assert len(rec["ig"]["nll"]) == len(row["ig_nll"]) and len(rec["ig"]["gains"]) == len(row["ig_gains"])


def test_example_record_drops_misaligned_columns_with_a_warning():
    row = make_row(0, "Q?", "1 + 1 = 2.", "2")
    row["entropy"] = row["entropy"][:-1]
    rec, warn = example_record(row, StringTable(), [], {"dataset": [True]})
    assert "H" not in rec and "dataset" not in rec["fk"]
    assert any("entropy" in w for w in warn) and any("dataset" in w for w in warn)


def test_summary_and_histograms_match_plain_loops():
    rng = np.random.default_rng(0)
    h = np.concatenate([rng.exponential(0.002, 300), rng.uniform(0.2, 2.5, 100), [0.0, np.nan]])
    s = summarize_entropy(h)
    finite = [x for x in h.tolist() if not math.isnan(x)]
    assert s.n_tokens == len(finite)
    assert s.share_below_0_01 == pytest.approx(sum(1 for x in finite if x < 0.01) / len(finite))
    assert s.mean == pytest.approx(sum(finite) / len(finite))
    counts, edges = log_histogram(h, n_bins=12)
    assert sum(counts) == len(finite) and len(edges) == 13
    for c, lo, hi in zip(counts[1:], edges[1:-1], edges[2:], strict=True):
        inside = sum(1 for x in finite if lo <= x < hi or (hi == edges[-1] and x == hi))
        assert c == inside
    xs, ys = cdf_points(h, n_points=20)
    for x, y in zip(xs, ys, strict=True):
        assert y == pytest.approx(sum(1 for v in finite if v <= x) / len(finite))
    assert ys[-1] == 1.0


def test_colour_scale():
    assert colour_at(0.0) == STOPS[0] and colour_at(1.0) == STOPS[-1]
    assert colour_at(scale_position(1e-9, 2.0)) == STOPS[0]
    assert scale_position(2.0, 2.0) == 1.0 and scale_position(5.0, 2.0) == 1.0
    assert scale_position(1e-2, 1.0) == pytest.approx(1 / 3)  # log10: -3 -> -2 of -3 -> 0
    assert scale_position(0.5, 2.0, log=False) == 0.25
    with pytest.raises(ValueError, match="h_max"):
        scale_position(0.1, 0.0)


# ---- a run that is not whole says so (issue 7: "runs that lie") ----------------------------------------
def test_incomplete_notes_unfinished_shards(run_dir):
    assert load_run(run_dir).incomplete == [
        "1 of 3 shards have no completion marker (part-00002.parquet); their examples are not shown"
    ]


def test_whole_run_has_no_incomplete_notes(tmp_path):
    run = write_run(tmp_path / "run", sample_rows())
    assert load_run(run).incomplete == []


def test_incomplete_notes_missing_stats_gaps_orphans_and_count_mismatch(tmp_path):
    run = write_run(tmp_path / "run", sample_rows(12))  # shards 0, 1, 2
    (run / "stats.json").unlink()
    notes = load_run(run).incomplete
    assert len(notes) == 1 and notes[0].startswith("no stats.json: the run did not finish")
    (run / "stats.json").write_text(json.dumps({"n_profiled": 12}))
    assert load_run(run).incomplete == []
    (run / "stats.json").write_text(json.dumps({"n_profiled": 20}))
    assert load_run(run).incomplete == [
        "stats.json counts 20 profiled examples but the completed shards hold 12"
    ]
    (run / "stats.json").write_text(json.dumps({"n_profiled": 8}))
    (run / "examples" / "part-00001.parquet").unlink()  # its marker stays: an orphan, and a gap in the data
    assert load_run(run).incomplete == [
        "1 completion marker(s) without their shard (part-00001.parquet)",
    ]
    (run / "examples" / "part-00001.done").unlink()
    assert load_run(run).incomplete == ["1 shard(s) missing from the numbering (first: part-00001.parquet)"]


def test_incomplete_notes_reach_the_page_and_the_callback(run_dir, tmp_path):
    from reasonsift.report.viewer import render_viewer

    seen = []
    html = render_viewer(run_dir, tmp_path / "v.html", on_incomplete=seen.append).read_text(encoding="utf-8")
    notes = load_run(run_dir).incomplete
    assert seen == [notes]
    m = json.loads(html.split('id="rs-data">', 1)[1].split("</script>", 1)[0])
    assert m["meta"]["incomplete"] == notes
    assert '<div id="incomplete" class="incomplete" role="alert" hidden></div>' in html
    assert "META.incomplete" in html and 'getElementById("incomplete")' in html


def test_hostile_shard_name_in_a_note_stays_text(tmp_path):
    from reasonsift.report.viewer import render_viewer

    run = write_run(tmp_path / "run", sample_rows())
    (run / "examples" / "part-<img src=x onerror=alert(1)>.parquet").write_bytes(b"")
    html = render_viewer(run, tmp_path / "v.html").read_text(encoding="utf-8")
    assert "<img src=x" not in html and "part-\\u003cimg src=x" in html


def test_cli_view_warns_about_an_incomplete_run(run_dir, tmp_path):
    from typer.testing import CliRunner

    from reasonsift.cli import app

    res = CliRunner().invoke(
        app, ["view", str(run_dir), "-o", str(tmp_path / "v.html")], env={"COLUMNS": "300"}
    )
    assert res.exit_code == 0, res.output
    assert (
        "warning: incomplete run: 1 of 3 shards have no completion marker (part-00002.parquet); "
        "their examples are not shown" in res.output
    )
    whole = write_run(tmp_path / "whole", sample_rows())
    res = CliRunner().invoke(
        app, ["view", str(whole), "-o", str(tmp_path / "w.html")], env={"COLUMNS": "300"}
    )
    assert res.exit_code == 0 and "incomplete" not in res.output
