"""The wall in Debian's Chromium: grids and figures render, and a new case shows without reload."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.casework import CaseDraft
from dashboard.vocabulary import Category, Source
from tests.browser.conftest import LiveServer, chrome, screenshot

pytestmark = pytest.mark.browser


def _kpi(driver, name: str) -> str:  # type: ignore[no-untyped-def]
    return driver.find_element(By.ID, f"kpi-{name}").text


@pytest.mark.parametrize("size", [(1920, 1080), (1024, 768)])
def test_wall_renders_grids_and_figures(demo_server: LiveServer, size: tuple[int, int]) -> None:
    driver = chrome(*size)
    try:
        driver.get(demo_server.url + "/")
        wait = WebDriverWait(driver, 40, poll_frequency=0.25)
        wait.until(lambda d: _kpi(d, "received_today") not in ("", "—"))
        wait.until(lambda d: d.execute_script("return window.mediationMap.styledCount()") >= 1700)
        time.sleep(1.5)  # let the web font and the canvas settle for the picture
        screenshot(driver, f"wall-{size[0]}x{size[1]}")
        assert _kpi(driver, "closure_rate_30d").endswith("%")
        assert int(_kpi(driver, "open").replace(",", "")) > 0
        assert "badge-live" in driver.find_element(By.ID, "wall-freshness").get_attribute("class")
        assert driver.execute_script("return document.documentElement.scrollHeight <= window.innerHeight + 1")
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert severe == []
    finally:
        driver.quit()


def test_new_case_appears_without_reload(demo_server: LiveServer) -> None:
    driver = chrome(1920, 1080)
    try:
        driver.get(demo_server.url + "/")
        wait = WebDriverWait(driver, 40, poll_frequency=0.2)
        wait.until(lambda d: _kpi(d, "received_today") not in ("", "—"))
        driver.execute_script("window.__sameDocument = true")
        before = int(_kpi(driver, "received_today").replace(",", ""))
        service = demo_server.runtime.cases
        grid = sorted(service.places())[0]
        service.submit(CaseDraft(source=Source.online, external_ref=f"browser-{time.time_ns()}", category=Category.debt,
                                 received_at=datetime.now(UTC), grid_code=grid), actor="测试", now=datetime.now(UTC))
        wait.until(lambda d: int(_kpi(d, "received_today").replace(",", "")) == before + 1)
        assert driver.execute_script("return window.__sameDocument === true"), "the page must not reload"
    finally:
        driver.quit()
