"""In a browser: the duty console shows "可能为同一事项" for a case reported twice, the officer
merges the two into one matter and undoes it; the wall's line under received counts the repeat,
equal to SQL after the merge and after the unmerge, without a reload."""

from __future__ import annotations

from datetime import timedelta

from selenium.webdriver.common.by import By

from dashboard.cases import matters as matter_service
from dashboard.domain.periods import Period, local_date
from dashboard.screens.wall_snapshot import WINDOW_DAYS
from data_access import figure_queries, matters
from dashboard.cases.casework import CaseDraft
from dashboard.domain.vocabulary import Category, Source
from tests.browser.conftest import LiveServer, chrome, painted, screenshot, signed_in, until
from tests.browser.test_screens import _click, _no_errors, _text
from tests.browser.test_wall import _open_wall


def _sql_line(server: LiveServer) -> str:
    """The wall's line under received, as plain SQL over its 30 days gives it."""
    rt = server.runtime
    period = Period.trailing(local_date(rt.clock()), WINDOW_DAYS)
    with rt.sessions() as session:
        received = figure_queries.period_counts(session, county_code=rt.cases.county_code, start=period.start,
                                                end=period.end).received
        distinct = matters.matters_sql(session, county_code=rt.cases.county_code, start=period.start, end=period.end)
    return f"事项 {distinct:,} · 重复 {received - distinct:,}"


def _reported_twice(server: LiveServer) -> tuple[int, int]:
    rt = server.runtime
    now = rt.clock()
    grid = sorted(rt.cases.places())[0]
    first, _ = rt.cases.submit(CaseDraft(source=Source.grid_report, external_ref="browser-matter-1",
                                         category=Category.land, received_at=now - timedelta(hours=6), grid_code=grid,
                                         description="网格员上报：欧某明与韩某军因宅基地东侧围墙界线争执，涉及约12米"),
                               actor="网格员", now=now)
    second, _ = rt.cases.submit(CaseDraft(source=Source.hotline_12345, external_ref="browser-matter-2",
                                          category=Category.neighbour, received_at=now - timedelta(hours=1),
                                          grid_code=grid, description="来电反映韩某军占用欧某明宅基地东侧约12米，围墙界线纠纷"),
                                actor="12345", now=now)
    return first.id, second.id


def test_the_officer_merges_two_reports_into_one_matter_and_undoes_it(demo_server: LiveServer) -> None:
    first, second = _reported_twice(demo_server)
    driver = chrome(1440, 900, screen=False)
    try:
        signed_in(driver, demo_server, "duty_officer")
        driver.get(f"{demo_server.url}/duty?case={second}")
        until(driver, lambda d: "可能为同一事项" in _text(d, "duty-matters"))
        assert f"#{first}" in _text(driver, "duty-matters") and "宅基" not in _text(driver, "duty-matters")
        assert "同村" in _text(driver, "duty-matters") and "相关类别" in _text(driver, "duty-matters")
        driver.find_element(By.CSS_SELECTOR, f"#duty-matters-pick input[value='{first}']").click()
        _click(driver, "matter-merge")
        until(driver, lambda d: "已并入事项" in _text(d, "duty-matters-message"))
        until(driver, lambda d: "主办" in _text(d, "duty-matters"))
        painted(driver)
        screenshot(driver, "duty-matters-1440x900")
        panel = matter_service.panel(demo_server.runtime, second)
        assert panel is not None and panel.matter_id is not None and {m.case_id for m in panel.members} == {first, second}
        wall = _open_wall(demo_server, (1920, 1080))
        try:
            merged = _sql_line(demo_server)
            assert not merged.endswith("重复 0")
            until(wall, lambda d: _text(d, "matters-line") == merged, 30)
            _click(driver, "matter-unmerge")
            until(driver, lambda d: "已移出事项" in _text(d, "duty-matters-message"))
            assert matter_service.panel(demo_server.runtime, second).matter_id is None
            unmerged = _sql_line(demo_server)
            assert unmerged != merged
            until(wall, lambda d: _text(d, "matters-line") == unmerged, 30)
            assert wall.execute_script("return document.documentElement.scrollHeight <= window.innerHeight")
            painted(wall)
            screenshot(wall, "wall-matters-1920x1080")
            _no_errors(wall)
        finally:
            wall.quit()
        _no_errors(driver)
    finally:
        driver.quit()
