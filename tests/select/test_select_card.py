"""The data card: per-stage counts, distributions before/after on hand-made records, escaped HTML."""

from __future__ import annotations

from reasonsift.select.card import card_tables, write_card


def _records():
    before = [
        {"id": str(i), "domain": "math" if i < 6 else "<script>alert(1)</script>", "trace": "x" * (10 * i),
         "meta": {"difficulty": i % 2}, "ifd": 0.1 * i if i else None, "H_mean": None}
        for i in range(10)
    ]  # fmt: skip
    return before, before[2:6]


def test_tables_count_before_and_after():
    before, after = _records()
    stages = [{"stage": "random", "in": 10, "kept": 4, "dropped": 6}]
    tables = {name: rows for name, _, rows in card_tables(before, after, stages)}
    assert tables["Stages"] == [["random", 10, 4, 6]]
    assert tables["Domain"][0] == ["math", 6, "60.0%", 4, "100.0%"]
    assert tables["Difficulty (meta difficulty)"] == [
        ["0", 5, "50.0%", 2, "50.0%"],
        ["1", 5, "50.0%", 2, "50.0%"],
    ]
    dist = {row[0]: row for row in tables["Distributions"]}
    assert dist["trace length (chars)"][1].startswith("n 10, mean 45")
    assert dist["trace length (chars)"][2].startswith("n 4, mean 35")
    assert dist["ifd"][1].startswith("n 9,")  # the null is left out
    assert "H_mean" not in dist  # no values: no row


def test_card_files_and_escaping(tmp_path):
    before, after = _records()
    write_card(
        tmp_path, before, after, [{"stage": "random", "in": 10, "kept": 4, "dropped": 6}], title="<b>t</b>"
    )
    html = (tmp_path / "card.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;t&lt;/b&gt;" in html
    md = (tmp_path / "card.md").read_text()
    assert "| random | 10 | 4 | 6 |" in md and "card/distributions.png" in md
    assert (tmp_path / "card" / "distributions.png").stat().st_size > 1000
