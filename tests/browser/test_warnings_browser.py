"""An injected burst becomes a warning on the wall: the panel shows its reason in words and
numbers and the map outlines the township, without a reload; the duty officer acknowledges it."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from selenium.webdriver.common.by import By

from dashboard.cases.casework import CaseDraft
from dashboard.domain.vocabulary import Category, Source
from dashboard.warnings import job, service
from data_access import areas, audit
from tests.browser.conftest import LiveServer, chrome, screenshot, signed_in, until

pytestmark = pytest.mark.browser

def _burst(server: LiveServer, township: str, size: int) -> None:
    """``size`` medical disputes in one township's grids over the last hour, through the write path."""
    service = server.runtime.cases
    grids = sorted(g for g, place in service.places().items() if place.township_code == township)
    now = server.runtime.clock()
    for k in range(size):
        service.submit(CaseDraft(source=Source.hotline_12345, external_ref=f"burst-{time.time_ns()}-{k}",
                                 category=Category.medical, received_at=now - timedelta(minutes=2 * k + 1),
                                 grid_code=grids[k % len(grids)]), actor="测试", now=now)


def test_a_burst_shows_as_a_warning_on_the_wall(demo_server: LiveServer) -> None:
    rt = demo_server.runtime
    with rt.sessions() as session:
        township, name = areas.township_geometries(session, rt.cases.county_code)[3][:2]
    driver = chrome(1920, 1080)
    try:
        driver.get(demo_server.url + "/")
        until(driver, lambda d: d.execute_script("return window.mediationMap.styledCount()") >= 1700)
        until(driver, lambda d: d.find_element(By.ID, "warn-count").text != "")
        driver.execute_script("window.__sameDocument = true")
        assert township not in driver.execute_script("return window.mediationMap.warnedAreas()")

        _burst(demo_server, township, 12)
        report = job.run(rt, force=True)
        assert report.ran and report.opened >= 1

        def shown(d: object) -> bool:
            """The burst's warning among the panel's rows. Other browser tests share this server and
            may have added cases of their own today, so the count is at least the burst's 12."""
            texts = [driver.find_element(By.ID, f"warn-{i}-text").text for i in range(3)]
            found = [re.match(rf"医疗纠纷 · {re.escape(name)} · 近1日(\d+)件，预期", t) for t in texts]
            return any(m is not None and int(m.group(1)) >= 12 for m in found)

        until(driver, shown, 40)
        until(driver, lambda d: township in d.execute_script("return window.mediationMap.warnedAreas()"))
        outlined = driver.execute_script("return window.mediationMap.outlined()")
        assert township in outlined, "the warned township is outlined in a dashed line (its drawn layer's style)"
        assert driver.execute_script("return window.__sameDocument") is True, "no reload"
        assert "条预警" in driver.find_element(By.ID, "warn-count").text
        screenshot(driver, "wall-warning")
    finally:
        driver.quit()


def test_the_duty_officer_acknowledges_a_warning_and_it_is_audited(demo_server: LiveServer) -> None:
    rt = demo_server.runtime
    with rt.sessions() as session:
        township, name = areas.township_geometries(session, rt.cases.county_code)[5][:2]
    _burst(demo_server, township, 12)
    assert job.run(rt, force=True).ran
    driver = chrome(1440, 900, screen=False)
    try:
        officer = signed_in(driver, demo_server, "duty_officer")
        driver.get(f"{demo_server.url}/duty")
        row_text = f"医疗纠纷 · {name} · 近1日"  # at least the burst's 12: the server is shared

        def row() -> object:
            rows = driver.find_elements(By.CSS_SELECTOR, "#duty-warnings-box .warn-row")
            return next((r for r in rows if row_text in r.text), None)

        until(driver, lambda d: row() is not None)
        row().find_element(By.CSS_SELECTOR, "button.warn-ack").click()  # type: ignore[attr-defined]
        until(driver, lambda d: f"已确认 · {officer}" in (row().text if row() else ""))  # type: ignore[attr-defined]
        screenshot(driver, "duty-warning-acknowledged")
        with rt.sessions() as session:
            entries = [e for e in audit.page(session, action=service.ACK_ACTION) if e.actor == officer]
        assert entries and name in entries[0].detail
        assert not row().find_elements(By.CSS_SELECTOR, "button.warn-ack"), "acknowledged once: the button is gone"  # type: ignore[attr-defined]
    finally:
        driver.quit()
