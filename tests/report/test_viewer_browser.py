"""The viewer in headless Chromium: payloads stay text, no JS errors, sorting works; saves a screenshot.

Skips when chromium/chromedriver are missing, except under CI=true where that is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from viewer_fixtures import XSS_CLOSE, XSS_IMG, XSS_SCRIPT, sample_rows, write_run
from viewer_fixtures import severe as _severe

from reasonsift.report.viewer import render_viewer

pytestmark = pytest.mark.browser

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img" / "viewer.png"


def _open(drv, html: Path) -> None:
    drv.get(html.as_uri())
    assert drv.execute_script("return document.readyState") == "complete"


def _payload_checks(drv) -> None:
    from selenium.webdriver.common.by import By

    assert drv.execute_script("return typeof window.__pwned") == "undefined"
    rows = drv.find_elements(By.CSS_SELECTOR, "#ex-table tbody tr")
    next(r for r in rows if "ex-001" in r.text).click()
    assert drv.execute_script("return typeof window.__pwned") == "undefined"
    body = drv.find_element(By.ID, "ex-view").text
    for payload in (XSS_SCRIPT, XSS_IMG, XSS_CLOSE):
        assert payload in body, payload
    # The payload tokens are single spans holding the literal text, no child elements.
    spans = drv.find_elements(By.CSS_SELECTOR, "#tokens .tk")
    assert spans[3].text == XSS_SCRIPT and spans[4].text == XSS_IMG
    assert drv.execute_script("return document.querySelectorAll('#ex-view script, #ex-view img').length") == 0
    # Hovering the token with the '</script>' alternative shows it as text in the tooltip.
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(drv).move_to_element(spans[5]).perform()
    tip = drv.find_element(By.ID, "tip")
    assert tip.is_displayed() and XSS_CLOSE in tip.text and "top alternatives" in tip.text
    assert drv.execute_script("return typeof window.__pwned") == "undefined"


def test_payloads_render_as_text_and_page_has_no_errors(driver, tmp_path):
    run = write_run(tmp_path / "run", sample_rows())
    html = render_viewer(run, tmp_path / "viewer.html")
    _open(driver, html)
    assert _severe(driver) == []
    _payload_checks(driver)
    assert _severe(driver) == []


def test_escaping_holds_without_the_csp(driver, tmp_path):
    """The CSP would block inline handlers anyway; without it, escaping alone must keep the payloads inert."""
    run = write_run(tmp_path / "run", sample_rows())
    html = render_viewer(run, tmp_path / "viewer.html")
    text = html.read_text(encoding="utf-8")
    start = text.index('<meta http-equiv="Content-Security-Policy"')
    stripped = tmp_path / "no-csp.html"
    stripped.write_text(text[:start] + text[text.index(">", start) + 1 :], encoding="utf-8")
    _open(driver, stripped)
    _payload_checks(driver)
    assert _severe(driver) == []


def test_header_click_sorts_and_filter_filters(driver, tmp_path):
    from selenium.webdriver.common.by import By

    rows = sample_rows(12)
    run = write_run(tmp_path / "run", rows)
    _open(driver, render_viewer(run, tmp_path / "viewer.html"))
    ifd_col = driver.execute_script(
        "return [...document.querySelectorAll('#ex-table th')].findIndex(th => th.dataset.key === 'ifd')"
    )
    header = driver.find_elements(By.CSS_SELECTOR, "#ex-table th")[ifd_col]

    def ids() -> list[str]:
        rows_now = driver.find_elements(By.CSS_SELECTOR, "#ex-table tbody tr")
        return [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows_now]

    header.click()
    by_ifd_desc = [r["id"] for r in sorted(rows, key=lambda r: -r["ifd"])]
    assert ids() == by_ifd_desc
    assert header.get_attribute("aria-sort") == "descending"
    header.click()
    assert ids() == by_ifd_desc[::-1]
    driver.find_elements(By.CSS_SELECTOR, "#ex-table tbody tr")[0].click()
    assert by_ifd_desc[-1] in driver.find_element(By.CSS_SELECTOR, ".ex-head h2").text
    box = driver.find_element(By.ID, "filter")
    box.send_keys("logic")
    assert ids() == [r["id"] for r in sorted(rows, key=lambda r: r["ifd"]) if r["domain"] == "logic"]
    assert _severe(driver) == []


def test_screenshot(driver, tmp_path):
    """Save a screenshot (printed path); REASONSIFT_DOCS_IMG=1 also refreshes docs/img/viewer.png."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    run = write_run(tmp_path / "arith-demo", sample_rows(24)[2:], tau=0.5, model="reasonsift/builtin-tiny")
    _open(driver, render_viewer(run, tmp_path / "viewer.html", max_examples=16))
    driver.set_window_size(1400, 1450)
    driver.find_elements(By.CSS_SELECTOR, "#ex-table th")[0].click()
    driver.execute_script("window.scrollTo(0, 0)")
    spans = driver.find_elements(By.CSS_SELECTOR, "#tokens .tk.fork")
    ActionChains(driver).move_to_element(spans[min(4, len(spans) - 1)]).perform()
    shot = tmp_path / "viewer.png"
    assert driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
    if os.environ.get("REASONSIFT_DOCS_IMG") == "1":
        DOCS_IMG.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS_IMG)
        print(f"docs screenshot: {DOCS_IMG}")
    assert _severe(driver) == []


def test_incomplete_run_shows_a_banner(driver, tmp_path):
    from selenium.webdriver.common.by import By

    run = write_run(tmp_path / "run", sample_rows(), undone_rows=sample_rows(2, seed=9))
    _open(driver, render_viewer(run, tmp_path / "viewer.html"))
    banner = driver.find_element(By.ID, "incomplete")
    assert banner.is_displayed() and "Incomplete run" in banner.text and "part-00002.parquet" in banner.text
    whole = write_run(tmp_path / "whole", sample_rows())
    _open(driver, render_viewer(whole, tmp_path / "whole.html"))
    assert not driver.find_element(By.ID, "incomplete").is_displayed()
    assert _severe(driver) == []
