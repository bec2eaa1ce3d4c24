"""The three screens in Debian's Chromium at their sizes: wall panels at 4K, the tablet's
drill-down and touch targets, the duty console's acknowledge, assign and red-alert flash."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from dashboard.cases.casework import CaseDraft
from dashboard.domain.periods import Period, local_date
from dashboard.domain.vocabulary import Category, Source
from data_access import cases, figure_queries
from tests.browser.conftest import LiveServer, chrome, painted, screenshot, signed_in, until

pytestmark = pytest.mark.browser


def _click(driver: WebDriver, element_id: str) -> None:
    until(driver, lambda d: d.find_element(By.ID, element_id).click() or True)


def _no_errors(driver: WebDriver) -> None:
    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []


def _text(driver: WebDriver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def _sql_period(server: LiveServer, days: int, area: tuple[str, str] | None = None) -> figure_queries.PeriodCounts:
    period = Period.trailing(local_date(server.runtime.clock()), days)
    with server.runtime.sessions() as session:
        return figure_queries.period_counts(session, county_code=server.runtime.cases.county_code, start=period.start,
                                            end=period.end, area=area)


def _shown_as_sql(driver: WebDriver, server: LiveServer) -> bool:
    """The wall's 30-day intake and village share equal SQL's for the 30 days ending today."""
    month = _sql_period(server, 30)
    return (_text(driver, "kpi-received_period") == f"{month.received:,}"
            and _text(driver, "tier-village-pct") == f"{month.tier_shares()['village']:.2f}%")


def _red_case(server: LiveServer) -> int:
    service = server.runtime.cases
    now = server.runtime.clock()
    case, _ = service.submit(CaseDraft(source=Source.walk_in, external_ref=f"red-{time.time_ns()}", category=Category.land,
                                       received_at=now, grid_code=sorted(service.places())[3], people_involved=45),
                             actor="测试", now=now)
    return case.id


@pytest.mark.parametrize("size", [(3840, 2160), (1920, 1080)])
def test_wall_panels_fill_the_screen(demo_server: LiveServer, size: tuple[int, int]) -> None:
    driver = chrome(*size)
    try:
        driver.get(demo_server.url + "/?tour=off")
        until(driver, lambda d: _text(d, "league-0-name") not in ("", "—"))
        until(driver, lambda d: d.execute_script("return window.mediationMap.styledCount()") >= 1700)
        painted(driver)
        screenshot(driver, f"wall-panels-{size[0]}x{size[1]}")
        assert driver.execute_script("return document.documentElement.scrollHeight <= window.innerHeight "
                                     "&& document.documentElement.scrollWidth <= window.innerWidth")
        until(driver, lambda d: _shown_as_sql(d, demo_server))  # SQL read anew: midnight may pass
        assert _text(driver, "chg-received_period-mom") != "—"
        assert _text(driver, "chg-received_period-yoy") != "—", "the fixture holds last year's days: 同比 has a value"
        rows = driver.find_elements(By.CSS_SELECTOR, ".league-body .league-row")
        assert len(rows) == 20 and all(r.is_displayed() for r in rows), "every township has a visible line"
        assert driver.find_element(By.ID, "league-19").rect["y"] + 10 < size[1]
        _no_errors(driver)
    finally:
        driver.quit()


@pytest.mark.parametrize("size", [(1024, 768), (768, 1024)])
def test_tablet_drills_down_with_large_touch_targets(demo_server: LiveServer, size: tuple[int, int]) -> None:
    driver = chrome(*size, screen=False)
    try:
        signed_in(driver, demo_server, "leader")
        driver.get(demo_server.url + "/tablet")
        until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".child"))
        painted(driver)
        screenshot(driver, f"tablet-{size[0]}x{size[1]}")
        until(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#fig-received .fig-value").text
                            == f"{_sql_period(demo_server, 30).received:,}")
        small = driver.execute_script("""
            return Array.from(document.querySelectorAll('a, button, input, summary, [role=combobox]'))
              .filter(e => e.offsetParent !== null && getComputedStyle(e).pointerEvents !== 'none')
              .map(e => [e.tagName, e.id || e.className, e.getBoundingClientRect()])
              .filter(([, , r]) => r.height < 44 || r.width < 44)
              .map(([tag, name, r]) => `${tag} ${name} ${Math.round(r.width)}×${Math.round(r.height)}`)""")
        assert small == [], "every touch target is at least 44 px"
        first = driver.find_elements(By.CSS_SELECTOR, ".child")[0]
        code = first.get_attribute("id").removeprefix("child-")
        first.click()
        until(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#tablet-breadcrumb .crumb")) == 2)
        assert f"area={code}" in driver.current_url
        township = _sql_period(demo_server, 30, ("township", code))
        until(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#fig-received .fig-value").text == f"{township.received:,}")
        for level, crumbs in (("village", 3), ("grid", 4)):
            child = driver.find_elements(By.CSS_SELECTOR, ".child")[0]
            code = child.get_attribute("id").removeprefix("child-")
            child.click()
            until(driver, lambda d, n=crumbs: len(d.find_elements(By.CSS_SELECTOR, "#tablet-breadcrumb .crumb")) == n)
            assert f"area={code}" in driver.current_url
            counts = _sql_period(demo_server, 30, (level, code))
            until(driver, lambda d, n=counts.received: d.find_element(
                By.CSS_SELECTOR, "#fig-received .fig-value").text == f"{n:,}")
        assert not driver.find_elements(By.CSS_SELECTOR, ".child"), "a grid is the last level"
        assert driver.find_element(By.ID, "tablet-cases").is_displayed()
        painted(driver)
        screenshot(driver, f"tablet-grid-{size[0]}x{size[1]}")
        driver.find_element(By.ID, "fig-closure_rate").click()
        assert "÷" in driver.find_element(By.CSS_SELECTOR, "#fig-closure_rate .fig-definition").text
        driver.find_element(By.ID, "range-7d").click()
        until(driver, lambda d: "range=7d" in d.current_url and f"area={code}" in d.current_url)
        week = _sql_period(demo_server, 7, ("grid", code))
        until(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#fig-received .fig-value").text == f"{week.received:,}")
        driver.find_elements(By.CSS_SELECTOR, "#tablet-breadcrumb a.crumb")[0].click()
        until(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#tablet-breadcrumb .crumb")) == 1)
        assert f"area={demo_server.runtime.cases.county_code}" in driver.current_url
        assert "range=7d" in driver.current_url, "the breadcrumb keeps the range"
        _no_errors(driver)
    finally:
        driver.quit()


def test_tablet_compares_two_townships(demo_server: LiveServer) -> None:
    driver = chrome(1024, 768, screen=False)
    try:
        signed_in(driver, demo_server, "leader")
        driver.get(demo_server.url + "/tablet?compare=220283001,220283002&range=ytd")
        until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#tablet-compare tbody tr"))
        screenshot(driver, "tablet-compare-1024x768")
        rows = driver.find_elements(By.CSS_SELECTOR, "#tablet-compare tbody tr")
        assert len(rows) == 8
        _no_errors(driver)
    finally:
        driver.quit()


def test_tablet_opens_definitions_and_reasons_by_tap(demo_server: LiveServer) -> None:
    """A touch screen never shows a ``title``: the comparison's figure names, the child areas'
    columns and a case's alert level open what they mean when tapped."""
    case_id = _red_case(demo_server)
    driver = chrome(1024, 768, screen=False)
    try:
        signed_in(driver, demo_server, "leader")
        driver.get(demo_server.url + "/tablet")
        until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#tablet-children .tap-definition"))
        legend = driver.find_element(By.CSS_SELECTOR, "#tablet-children .tap-definition")
        assert not legend.find_element(By.CSS_SELECTOR, ".fig-definition").is_displayed()
        legend.find_element(By.TAG_NAME, "summary").click()
        assert "÷" in legend.find_element(By.CSS_SELECTOR, ".fig-definition").text
        first = driver.find_element(By.CSS_SELECTOR, "#tablet-cases tbody tr")
        assert first.find_element(By.TAG_NAME, "td").text == f"#{case_id}", "the newest case leads the list"
        first.find_element(By.CSS_SELECTOR, ".tap-reasons summary").click()
        assert "涉及30人以上" in first.find_element(By.CSS_SELECTOR, ".case-reasons").text

        driver.get(demo_server.url + "/tablet?compare=220283001,220283002")
        until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#tablet-compare tbody th summary"))
        heads = driver.find_elements(By.CSS_SELECTOR, "#tablet-compare tbody th .tap-definition")
        heads[2].find_element(By.TAG_NAME, "summary").click()
        assert "÷" in heads[2].find_element(By.CSS_SELECTOR, ".fig-definition").text, "the closure rate says what it divides"
        assert not driver.find_elements(By.CSS_SELECTOR, "#tablet-body [title]"), "nothing relies on a hover title"
        _no_errors(driver)
    finally:
        driver.quit()


def test_duty_console_acknowledges_assigns_flashes_and_sounds(demo_server: LiveServer) -> None:
    driver = chrome(1440, 900, screen=False)
    try:
        officer = signed_in(driver, demo_server, "duty_officer")
        driver.get(demo_server.url + "/duty")
        until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".queue-row"))
        _click(driver, "duty-sound")
        until(driver, lambda d: _text(d, "duty-sound") == "声音提醒：开")
        driver.execute_script("window.mediationDuty.check()")  # the red ids it starts with, read now, not on its timer
        tones = driver.execute_script("return window.mediationDuty.tones")
        case_id = _red_case(demo_server)
        until(driver, lambda d: d.execute_script("return window.mediationDuty.flashes") >= 1, 30)
        until(driver, lambda d: d.execute_script("return window.mediationDuty.tones") > tones, 5)
        until(driver, lambda d: d.find_elements(By.ID, f"queue-{case_id}"), 30)
        _click(driver, f"queue-{case_id}")
        until(driver, lambda d: f"#{case_id}" in d.find_element(By.ID, "duty-summary").text)
        _click(driver, "duty-ack")
        until(driver, lambda d: "值班确认" in d.find_element(By.ID, "duty-timeline-box").text)
        assert officer in driver.find_element(By.ID, "duty-timeline-box").text, "the event names the signed-in officer"
        _click(driver, "duty-assign-to")
        until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "[role=option]"))
        driver.find_elements(By.CSS_SELECTOR, "[role=option]")[0].click()
        _click(driver, "duty-assign")
        until(driver, lambda d: "分派" in d.find_element(By.ID, "duty-timeline-box").text)
        driver.find_element(By.ID, "duty-supervise-note").send_keys("请两小时内到场处置")
        _click(driver, "duty-supervise")
        until(driver, lambda d: "请两小时内到场处置" in d.find_element(By.ID, "duty-timeline-box").text)
        painted(driver)
        screenshot(driver, "duty-1440x900")
        with demo_server.runtime.sessions() as session:
            row = cases.get(session, case_id)
            assert row is not None and row.acknowledged_at is not None and row.supervised and row.center_id is not None
        _no_errors(driver)
        driver.refresh()
        until(driver, lambda d: _text(d, "duty-sound") == "声音提醒：开")  # the officer's choice is remembered
    finally:
        driver.quit()


def test_screen_roles_are_kept_apart(demo_server: LiveServer) -> None:
    """A wall's display token opens the wall but neither the tablet nor the duty console, and a
    leader does not reach the duty console, not even through Dash's own routes."""
    driver = chrome(1024, 768)
    try:
        def refused(d: WebDriver) -> bool:
            return "/login" in d.current_url or bool(d.find_elements(By.CSS_SELECTOR, ".forbidden")) or \
                "<h1>403</h1>" in d.page_source

        for path in ("/duty", "/tablet"):
            driver.get(demo_server.url + path)
            until(driver, refused)
            assert not driver.find_elements(By.CSS_SELECTOR, ".queue-row, .child")
        signed_in(driver, demo_server, "leader")
        driver.get(demo_server.url + "/duty")
        until(driver, refused)
        assert not driver.find_elements(By.CSS_SELECTOR, ".queue-row")
    finally:
        driver.quit()
