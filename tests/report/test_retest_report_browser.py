"""The re-test report in headless Chromium: no console errors, text stays text, the plot loads."""

from __future__ import annotations

import numpy as np
import pytest
from viewer_fixtures import XSS_SCRIPT
from viewer_fixtures import severe as _severe

from reasonsift.retest.report import page
from reasonsift.retest.runner import verdict_entry
from reasonsift.retest.spec import get_spec

pytestmark = pytest.mark.browser


def test_report_opens_without_errors_and_escapes(driver, tmp_path):
    from selenium.webdriver.common.by import By

    rng = np.random.default_rng(1)
    s = (rng.random((50, 3)) < 0.5).astype(float)
    scores = {"base": s * 0, "completion": s, "forking": s, "bottom": s, "random": s}
    entry = verdict_entry(get_spec("C1"), scores, {}, [XSS_SCRIPT], [0, 1, 2])
    html = tmp_path / "report.html"
    html.write_text(page({"C1": entry}, {"inputs": [{"path": XSS_SCRIPT, "sha256": "0"}]}))
    driver.get(html.as_uri())
    assert driver.execute_script("return document.readyState") == "complete"
    assert _severe(driver) == []
    assert driver.find_elements(By.TAG_NAME, "script") == []
    assert XSS_SCRIPT in driver.find_element(By.TAG_NAME, "body").text  # shown as text, not run
    img = driver.find_element(By.TAG_NAME, "img")
    assert driver.execute_script("return arguments[0].naturalWidth", img) > 0
    assert "C1" in driver.title or driver.find_element(By.ID, "C1")
