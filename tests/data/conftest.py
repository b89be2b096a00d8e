import json

import pytest


@pytest.fixture
def write_jsonl(tmp_path):
    """Write rows (dicts, or raw strings) as a JSONL file under tmp_path and return its path as str."""

    def write(name, rows):
        p = tmp_path / name
        with open(p, "w", encoding="utf-8") as fh:
            for r in rows:
                fh.write((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n")
        return str(p)

    return write
