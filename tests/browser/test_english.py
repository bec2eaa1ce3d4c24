"""Every screen speaks English when asked: the wall by its URL (``?lang=en``, a wall is configured
by address), the tablet and the duty console by the language link in their headers.

Place names are data and stay Chinese; every label, heading, button, figure name, category,
source, level and reason must not contain a CJK character.
"""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.conftest import LiveServer, chrome, screenshot, signed_in, until

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")

WALL_LABELS = (".kpi-label, .chg-label, .panel-title, .league-head, .bar-name, .trend-legend, .legend, .wall-period, "
               "#wall-freshness, .updated, .ticker-row:not(.ticker-empty) .chip, .ticker-what")
TABLET_LABELS = (".fig-label, .fig-change, .range-bar .seg, .card h2, .child-num small, .compare-title, "
                 ".compare-bar .button, .dash-dropdown-placeholder, .case-table th, .case-table td:nth-child(n+3):nth-child(-n+6)")
DUTY_LABELS = ("#duty-sound, .duty-body h2, .queue-filters, .queue-count, .queue-what, .queue-age, "
               ".queue-flags, .queue-row .chip, #duty-handover-save, #duty-notes .empty")


def _chinese_labels(driver: WebDriver, selector: str) -> list[str]:
    """Visible texts of ``selector`` that contain Chinese, read in one go (the duty console redraws every 5 s)."""
    texts: list[str] = driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".filter(e => e.offsetParent !== null).map(e => e.innerText)", selector)
    assert len(texts) > 10, f"too few labels found for {selector!r}: {texts}"
    return [t for t in texts if CJK.search(t)]


def _clipped(driver: WebDriver, selector: str) -> list[str]:
    """Texts of ``selector`` elements whose content is wider than the element (cut off or ellipsised)."""
    texts: list[str] = driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)", selector)
    return texts


def test_wall_in_english_by_its_address(demo_server: LiveServer) -> None:
    driver = chrome(1920, 1080)
    try:
        driver.get(demo_server.url + "/?lang=en&tour=off")
        until(driver, lambda d: d.find_element(By.ID, "league-0-name").text not in ("", "—"))
        until(driver, lambda d: d.find_element(By.ID, "ticker-0-what").text != "")
        until(driver, lambda d: "badge-live" in d.find_element(By.ID, "wall-freshness").get_attribute("class"))
        until(driver, lambda d: d.execute_script("return window.mediationMap.styledCount()") >= 1700)
        screenshot(driver, "wall-en-1920x1080")
        title = driver.find_element(By.ID, "wall-title").text
        assert title.endswith("· Dispute Resolution Command Centre"), title
        assert _chinese_labels(driver, WALL_LABELS) == []
        assert _clipped(driver, ".bar-name") == [], "English type and source names fit their column"
    finally:
        driver.quit()


def test_tablet_switches_to_english_by_its_link(demo_server: LiveServer) -> None:
    driver = chrome(1024, 768, screen=False)
    try:
        signed_in(driver, demo_server, "leader")
        driver.get(demo_server.url + "/tablet")
        until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".child"))
        driver.find_element(By.CSS_SELECTOR, ".lang-switch").click()
        until(driver, lambda d: "lang=en" in d.current_url)
        until(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#fig-received .fig-label").text == "Received")
        screenshot(driver, "tablet-en-1024x768")
        assert _chinese_labels(driver, TABLET_LABELS) == []
        assert driver.find_element(By.CSS_SELECTOR, ".lang-switch").text == "中文", "and back again"
    finally:
        driver.quit()


def test_duty_console_switches_to_english_by_its_link(demo_server: LiveServer) -> None:
    driver = chrome(1440, 900, screen=False)
    try:
        signed_in(driver, demo_server, "duty_officer")
        driver.get(demo_server.url + "/duty")
        until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".queue-row"))
        driver.find_element(By.ID, "duty-lang").click()
        until(driver, lambda d: "lang=en" in d.current_url)
        until(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".duty-queue h2").text == "Alert queue")
        screenshot(driver, "duty-en-1440x900")
        assert _chinese_labels(driver, DUTY_LABELS) == []
        assert _clipped(driver, ".queue-row") == [], "the longer English words stay inside each queue row"
        assert driver.find_element(By.ID, "duty-lang").text == "中文"
    finally:
        driver.quit()
