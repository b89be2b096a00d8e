"""Fixtures for the viewer and report tests: run directories (builders in ``viewer_fixtures``) and a headless
Chromium driver."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from viewer_fixtures import sample_rows, write_run


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A 7-example run in 2 completed shards plus one shard without a .done marker (must be ignored)."""
    return write_run(tmp_path / "run", sample_rows(), undone_rows=sample_rows(2, seed=9))


# -- headless Chromium (the viewer and the re-test report); skips locally without it, fails under CI=true

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")


def _available() -> str | None:
    """None when a browser can be started, else why not."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).exists() or shutil.which(path)):
            return f"{path} not found"
    return None


@pytest.fixture
def driver():
    reason = _available()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="rs-chrome-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)
