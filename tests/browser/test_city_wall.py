"""A city wall (``/?area=220200``) in Chromium: its KPIs are the city's roll-up, its league shows
one row per county with that county's figures, equal to plain SQL, and its map colours the
counties' outlines (``/api/geo/region/220200``) by each county's alert level.

The server is the real one (``python -m dashboard serve`` on the embedded default) with the demo
county (舒兰市) and a second real county of 吉林市 (丰满区, from ``../shared/data/jilin-city``),
each with a week of demo history of its own size.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta

import pytest
from selenium.webdriver.common.by import By

from dashboard.cases import demo
from dashboard.domain.figure_text import count_text, rate_text
from dashboard.domain.periods import Period, local_date
from dashboard.runtime import Runtime
from dashboard.settings import PROJECT_ROOT, Settings
from data_access.models import Region
from data_access.redis_connection import stop_embedded_redis
from tests.browser.conftest import LiveServer, _cli, _free_port, chrome, signed_in, until
from tests.dashboard.screens.region_support import sql_instant, sql_period

pytestmark = pytest.mark.browser

CITY = "220200"
SECOND = "220211"
JILIN = PROJECT_ROOT.parent / "shared" / "data" / "jilin-city"


@pytest.fixture(scope="module")
def city_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    var = tmp_path_factory.mktemp("city-var")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "MEDIATION_AREA")}
    env.update(MEDIATION_VAR_DIR=str(var), PORT=str(port), REFRESH_SECONDS="1", MEDIATION_SCHEDULER="off")
    _cli(env, "db", "upgrade")
    _cli(env, "county", "ensure-demo")
    _cli(env, "county", "import", "--outline", str(JILIN / f"{SECOND}_county_gcj02.geojson"), "--crs", "gcj02",
         "--townships", str(JILIN / f"{SECOND}_townships.csv"), "--villages", str(JILIN / f"{SECOND}_villages.csv"),
         "--name", "丰满区", "--grids", "120")
    rt = Runtime(Settings(database_url=f"sqlite:///{var / 'mediation.db'}", redis_url=None, var_dir=var))
    now = rt.clock()
    days = [local_date(now) - timedelta(days=n) for n in range(7, -1, -1)]
    demo.backfill_days(rt.case_service("220283"), days, now=now)
    demo.backfill_days(rt.case_service(SECOND), days, now=now, stream=demo.HistoryStream.of_county(SECOND, 93))
    with rt.sessions() as session, session.begin():
        session.add(Region(code=CITY, name="吉林市", level="city", parent_code="220000", outline=None, imported_at=now))
    server = LiveServer(f"http://127.0.0.1:{port}", rt, env, None)  # type: ignore[arg-type]
    server.start()
    yield server
    server.stop()
    rt.close()
    stop_embedded_redis(var)


def test_a_city_wall_shows_its_counties_equal_to_sql(city_server: LiveServer) -> None:
    rt = city_server.runtime
    counties = rt.served_counties()
    assert counties == ["220211", "220283"]
    driver = chrome(1920, 1080, screen=False)
    try:
        signed_in(driver, city_server, "leader")
        driver.get(f"{city_server.url}/?area={CITY}&tour=off")
        until(driver, lambda d: d.find_element(By.ID, "wall-title").text.startswith("吉林市"))
        names = {"220283": "舒兰市", "220211": "丰满区"}

        def shown() -> dict[str, tuple[str, str, str]]:
            rows = {}
            for i in range(len(counties)):
                name = driver.find_element(By.ID, f"league-{i}-name").text
                rows[name] = tuple(driver.find_element(By.ID, f"league-{i}-{part}").text
                                   for part in ("rate", "overdue", "red"))
            return rows  # type: ignore[return-value]

        def expected() -> dict[str, tuple[str, str, str]]:
            now = rt.clock()
            period = Period.trailing(local_date(now), 30)
            with rt.sessions() as session:
                out = {}
                for code in counties:
                    counts = sql_period(session, [code], period.start, period.end)
                    instant = sql_instant(session, [code], now)
                    out[names[code]] = (rate_text(counts.closure_rate), count_text(instant.overdue),
                                        count_text(instant.red))
                return out

        until(driver, lambda d: shown() == expected(), 60, message=lambda: f"{shown()} != {expected()}")

        def kpi_open() -> tuple[str, str]:
            with rt.sessions() as session:
                now = sql_instant(session, counties, rt.clock())
            return driver.find_element(By.ID, "kpi-open").text, count_text(now.open)

        until(driver, lambda d: (lambda pair: pair[0] == pair[1])(kpi_open()), 30, message=lambda: str(kpi_open()))
        assert "区县排行" in driver.find_element(By.CSS_SELECTOR, ".panel-league .panel-title").text
        until(driver, lambda d: d.execute_script("return window.mediationMap.styledCount()") == len(counties))
        colours = driver.execute_script(
            "return Object.keys(window.mediationLive.values).map(c => [c, window.mediationLive.values[c][0]])")
        with rt.sessions() as session:
            received = {c: sql_period(session, [c], Period.trailing(local_date(rt.clock()), 30).start,
                                      Period.trailing(local_date(rt.clock()), 30).end).received for c in counties}
        assert {code for code, _ in colours} == set(counties), (colours, received, shown())
    finally:
        driver.quit()
