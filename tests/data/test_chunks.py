"""Reading an input one chunk at a time (``profile --engine ray``): the chunks, read back one by one, give
exactly what a whole-file read gives (records, order, default ids, line numbers in errors)."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reasonsift.data.chunks import chunkable, plan_chunks, read_chunk
from reasonsift.data.errors import DataError
from reasonsift.data.io import read_examples
from reasonsift.tasks import get_task


def _records(n: int, ids: bool = True) -> list[dict]:
    out = []
    for ex in get_task("arith").generate(n, seed=3, split="train"):
        d = ex.to_dict()
        if not ids:
            d.pop("id")
        out.append(d)
    return out


def _jsonl(tmp_path, recs, name="pool.jsonl", *, blank=True, crlf=False, bom=False) -> str:
    nl = "\r\n" if crlf else "\n"
    lines = []
    for k, r in enumerate(recs):
        lines.append(json.dumps(r))
        if blank and k % 3 == 1:
            lines.append("   ")  # blank lines are not records, but they count as lines
    text = ("\ufeff" if bom else "") + nl.join(lines) + nl
    path = tmp_path / name
    path.write_bytes(text.encode())
    return str(path)


def _all(plan) -> list[dict]:
    return [ex.to_dict() for c in plan.chunks for ex in read_chunk(plan, c)]


def _whole(path, limit=None) -> list[dict]:
    exs = read_examples(path).examples
    return [ex.to_dict() for ex in exs[:limit]]


@pytest.mark.parametrize("size", [1, 3, 4, 100])
@pytest.mark.parametrize("variant", ["plain", "crlf+bom", "no ids"])
def test_jsonl_chunks_equal_a_whole_file_read(tmp_path, size, variant):
    recs = _records(11, ids=variant != "no ids")
    path = _jsonl(tmp_path, recs, crlf=variant == "crlf+bom", bom=variant == "crlf+bom")
    plan = plan_chunks(path, size)
    assert plan.n == 11 and plan.container == "jsonl" and plan.fmt == read_examples(path).format
    assert [c.first for c in plan.chunks] == list(range(0, 11, size))
    assert all(c.n == min(size, 11 - c.first) for c in plan.chunks)
    assert _all(plan) == _whole(path)  # default ids <stem>-<line> too: absolute line numbers


@pytest.mark.parametrize("limit", [1, 5, 6, 30])
def test_limit(tmp_path, limit):
    path = _jsonl(tmp_path, _records(11))
    plan = plan_chunks(path, 3, limit=limit)
    assert plan.n == min(limit, 11)
    assert _all(plan) == _whole(path)[:limit]


def test_parquet_chunks_across_row_groups(tmp_path):
    recs = _records(13)
    path = tmp_path / "pool.parquet"
    pq.write_table(pa.Table.from_pylist(recs), path, row_group_size=4)
    assert pq.ParquetFile(path).metadata.num_row_groups == 4
    plan = plan_chunks(str(path), 5)
    assert [(c.start, c.stop) for c in plan.chunks] == [(0, 5), (5, 10), (10, 13)]
    assert _all(plan) == _whole(str(path))
    assert _all(plan_chunks(str(path), 5, limit=7)) == _whole(str(path))[:7]


def test_bad_record_in_a_later_chunk_names_its_line(tmp_path):
    lines = [json.dumps(r) for r in _records(8)]
    lines[6] = '{"question": "1+1", "answer": '  # broken JSON on line 7
    path = tmp_path / "pool.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=rf"{path}:7: .*invalid JSON"):
        plan_chunks(str(path), 3)
    with pytest.raises(DataError, match=rf"{path}:7: .*invalid JSON"):
        read_examples(str(path))  # the same message as a whole-file read


def test_duplicate_id_across_chunks(tmp_path):
    recs = _records(8)
    recs[6]["id"] = recs[1]["id"]
    path = _jsonl(tmp_path, recs, blank=False)
    with pytest.raises(DataError, match=rf"{path}:7: id: duplicate id .*first at line 2"):
        plan_chunks(path, 3)


def test_chunkable_and_content_checks(tmp_path):
    path = _jsonl(tmp_path, _records(2))
    assert chunkable(path) and not chunkable("-") and not chunkable(None) and not chunkable(str(tmp_path))
    arr = tmp_path / "pool.json"
    arr.write_text(json.dumps(_records(2)))
    assert not chunkable(str(arr))  # a JSON array is read whole
    fake = tmp_path / "pool.parquet"
    fake.write_text(json.dumps(_records(1)[0]) + "\n")
    with pytest.raises(DataError, match="does not match the extension"):
        plan_chunks(str(fake), 2)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n  \n")
    with pytest.raises(DataError, match="empty file"):
        plan_chunks(str(empty), 2)
