"""Fixtures for the viewer tests; the run-directory builders live in ``viewer_fixtures``."""

from __future__ import annotations

from pathlib import Path

import pytest
from viewer_fixtures import sample_rows, write_run


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A 7-example run in 2 completed shards plus one shard without a .done marker (must be ignored)."""
    return write_run(tmp_path / "run", sample_rows(), undone_rows=sample_rows(2, seed=9))
