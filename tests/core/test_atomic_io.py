import pytest

from reasonsift.utils.io import atomic_path, atomic_write_text, file_sha256


def test_failed_write_leaves_old_file_untouched(tmp_path):
    p = tmp_path / "out.txt"
    atomic_write_text(p, "old")
    with pytest.raises(RuntimeError), atomic_path(p) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert p.read_text() == "old"
    assert [q.name for q in tmp_path.iterdir()] == ["out.txt"]


def test_directory_replace_and_hash(tmp_path):
    d = tmp_path / "model"
    for content in ("v1", "v2"):
        with atomic_path(d) as tmp:
            tmp.mkdir()
            (tmp / "w.txt").write_text(content)
    assert (d / "w.txt").read_text() == "v2"
    h = file_sha256(d)
    (d / "w.txt").write_text("v3")
    assert file_sha256(d) != h
