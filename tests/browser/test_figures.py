"""What the screens show equals what ``/api/figures`` answers for the same area and period.

A leader signs in, reads the JSON through the browser's own session, and every figure the wall
and the tablet draw for that period is held against it: KPI tiles, 环比/同比 cells, the tier
pyramid, the tablet's tiles for the county and one township, and both columns of the township
comparison. Open and overdue move with the clock, so each comparison re-reads both sides until
they agree or the wait runs out (and then shows the difference).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from dashboard.domain.periods import Period, local_date
from tests.browser.conftest import LiveServer, chrome, signed_in
from tests.waiting import wait_until

pytestmark = pytest.mark.browser

Figures = dict[str, object]
TIERS = ("village", "township", "county")


def _api(driver: WebDriver, area: str, period: Period) -> Figures:
    """``/api/figures`` fetched by the page itself, so it runs as the signed-in leader."""
    url = f"/api/figures?area={area}&from={period.first.isoformat()}&to={period.last.isoformat()}"
    answer: dict[str, object] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {cache: 'no-store'}).then(r => r.json().then(b => done({status: r.status, body: b})))",
        url)
    assert answer["status"] == 200, answer
    body: Figures = answer["body"]  # type: ignore[assignment]
    return body


def _count(n: object) -> str:
    return f"{int(n):,}"  # type: ignore[call-overload]


def _rate(value: object) -> str:
    return "—" if value is None else f"{float(value):.2f}%"  # type: ignore[arg-type]


def _change(value: float | None, unit: str) -> str:
    """How a change cell reads: arrow, magnitude, unit; a dash with nothing to compare."""
    if value is None:
        return "—"
    arrow = "↑" if value > 0 else "↓" if value < 0 else "→"
    return f"{arrow}{abs(value):.{1 if unit == '%' else 2}f}{unit}"


def _relative(now: object, before: object) -> str:
    b = int(before)  # type: ignore[call-overload]
    return _change(None if b <= 0 else round(100.0 * (int(now) - b) / b, 1), "%")  # type: ignore[call-overload]


def _points(now: object, before: object) -> str:
    return _change(None if now is None or before is None else round(float(now) - float(before), 2), "pt")  # type: ignore[arg-type]


def _changes(figures: Figures, field: str, kind: str) -> tuple[str, str]:
    """环比 and 同比 of one figure as the screen should write them."""
    now, prev, year = (figures[k] for k in ("period", "previous_period", "same_period_last_year"))
    compare = _relative if kind == "count" else _points
    return compare(now[field], prev[field]), compare(now[field], year[field])  # type: ignore[index]


def _settled(read_screen: Callable[[], dict[str, str]], expect: Callable[[], dict[str, str]], seconds: float = 25) -> None:
    """Both sides agree, re-reading them while the screen catches up; otherwise show the difference."""
    last: dict[str, dict[str, str]] = {"shown": {}, "wanted": {}}

    def agree() -> bool:
        last["shown"], last["wanted"] = read_screen(), expect()
        return last["shown"] == last["wanted"]

    def difference() -> str:
        shown, wanted = last["shown"], last["wanted"]
        return (f"the screen to show what /api/figures answers; shown "
                f"{ {k: v for k, v in shown.items() if wanted.get(k) != v} }, answered "
                f"{ {k: v for k, v in wanted.items() if shown.get(k) != v} }")

    wait_until(agree, seconds, interval=0.5, message=difference,
               ignoring=(NoSuchElementException, StaleElementReferenceException, ValueError))


def _texts(driver: WebDriver, ids: list[str]) -> dict[str, str]:
    return {i: driver.find_element(By.ID, i).text for i in ids}


def _today() -> date:
    return local_date(datetime.now(UTC))


def _wall_expected(driver: WebDriver, county: str, period_shown: Period) -> dict[str, str]:
    month = _api(driver, county, period_shown)
    today = _api(driver, county, Period(_today(), _today()))
    period, now = month["period"], month["now"]
    out = {
        "kpi-received_today": _count(today["period"]["received"]),  # type: ignore[index]
        "kpi-closed_today": _count(today["period"]["closed"]),  # type: ignore[index]
        "kpi-open": _count(now["open"]), "kpi-overdue": _count(now["overdue"]),  # type: ignore[index]
        "kpi-red_alerts": _count(now["red"]),  # type: ignore[index]
        "kpi-received_period": _count(period["received"]),  # type: ignore[index]
        "kpi-closure_rate_30d": _rate(period["closure_rate"]),  # type: ignore[index]
        "kpi-satisfaction_rate": _rate(period["satisfaction_rate"]),  # type: ignore[index]
    }
    for name, field, kind in (("received_period", "received", "count"), ("closure_rate_30d", "closure_rate", "rate"),
                              ("satisfaction_rate", "satisfaction_rate", "rate")):
        out[f"chg-{name}-mom"], out[f"chg-{name}-yoy"] = _changes(month, field, kind)
    for tier in TIERS:
        out[f"tier-{tier}-pct"] = _rate(period["resolved_at_tier"][tier])  # type: ignore[index]
        out[f"tier-{tier}-n"] = _count(period[f"closed_{tier}"])  # type: ignore[index]
    return out


TILES = {"received": ("received", "count"), "closed": ("closed", "count"), "closure_rate": ("closure_rate", "rate"),
         "on_time_rate": ("on_time_rate", "rate"), "satisfaction_rate": ("satisfaction_rate", "rate")}
NOW_TILES = ("open", "overdue", "red")
RATIOS = {"closure_rate": ("closed", "received"), "on_time_rate": ("closed_on_time", "closed"),
          "satisfaction_rate": ("satisfied", "followed_up")}


def _ratio(period: dict[str, object], rate: str) -> str:
    top, bottom = RATIOS[rate]
    return f"{_count(period[top])} ÷ {_count(period[bottom])}"


def _tablet_expected(figures: Figures) -> dict[str, str]:
    period, now = figures["period"], figures["now"]
    out: dict[str, str] = {}
    for tile, (field, kind) in TILES.items():
        out[tile] = (_count if kind == "count" else _rate)(period[field])  # type: ignore[index]
        out[f"{tile}-mom"], out[f"{tile}-yoy"] = _changes(figures, field, kind)
        if tile in RATIOS:
            out[f"{tile}-ratio"] = _ratio(period, tile)  # type: ignore[arg-type]
    out.update({tile: _count(now[tile]) for tile in NOW_TILES})  # type: ignore[index]
    out.update({f"tier-{t}": _rate(period["resolved_at_tier"][t]) for t in TIERS})  # type: ignore[index]
    out.update({f"tier-{t}-n": _count(period[f"closed_{t}"]) for t in TIERS})  # type: ignore[index]
    return out


def _tablet_shown(driver: WebDriver) -> dict[str, str]:
    out: dict[str, str] = {}
    for tile in TILES:
        out[tile] = driver.find_element(By.CSS_SELECTOR, f"#fig-{tile} .fig-value").text
        out[f"{tile}-mom"], out[f"{tile}-yoy"] = (e.text for e in driver.find_elements(By.CSS_SELECTOR, f"#fig-{tile} .fig-change .chg"))
        if tile in RATIOS:
            out[f"{tile}-ratio"] = driver.find_element(By.CSS_SELECTOR, f"#fig-{tile} .fig-ratio").text
    out.update({tile: driver.find_element(By.CSS_SELECTOR, f"#fig-{tile} .fig-value").text for tile in NOW_TILES})
    lines = driver.find_elements(By.CSS_SELECTOR, "#fig-tier .tier-line")
    for tier, line in zip(TIERS, lines, strict=True):
        out[f"tier-{tier}"] = line.find_element(By.CSS_SELECTOR, ":scope > span:nth-child(3)").text
        out[f"tier-{tier}-n"] = line.find_element(By.CSS_SELECTOR, ".tier-n").text
    return out


COMPARE = (("received", "period", "count"), ("closed", "period", "count"), ("closure_rate", "period", "rate"),
           ("on_time_rate", "period", "rate"), ("satisfaction_rate", "period", "rate"), ("open", "now", "count"),
           ("overdue", "now", "count"), ("red", "now", "count"))


def test_wall_and_tablet_show_the_figures_api_answers(demo_server: LiveServer) -> None:
    driver = chrome(1920, 1080, screen=False)
    county = demo_server.runtime.cases.county_code

    def month() -> Period:
        """The wall's default 30 days, taken anew at each look: a period fixed at the start goes stale at midnight."""
        return Period.trailing(_today(), 30)

    try:
        signed_in(driver, demo_server, "leader")
        driver.get(demo_server.url + "/?tour=off")
        wall_ids = list(_wall_expected(driver, county, month()))
        _settled(lambda: _texts(driver, wall_ids), lambda: _wall_expected(driver, county, month()))

        driver.get(demo_server.url + "/tablet")
        _settled(lambda: _tablet_shown(driver), lambda: _tablet_expected(_api(driver, county, month())))
        first, second = (e.get_attribute("id").removeprefix("child-") for e in driver.find_elements(By.CSS_SELECTOR, ".child")[:2])
        driver.get(demo_server.url + f"/tablet?area={first}")
        _settled(lambda: _tablet_shown(driver), lambda: _tablet_expected(_api(driver, first, month())))
        driver.get(demo_server.url + f"/tablet?compare={first},{second}")

        def compare_shown() -> dict[str, str]:
            rows = driver.find_elements(By.CSS_SELECTOR, "#tablet-compare tbody tr")
            return {f"{name}-{side}": row.find_elements(By.TAG_NAME, "td")[side].text.replace("\n", " | ")
                    for (name, _, _), row in zip(COMPARE, rows, strict=True) for side in (0, 1)}

        def compare_expected() -> dict[str, str]:
            answers = [_api(driver, code, month()) for code in (first, second)]
            return {f"{name}-{side}": (_count(answers[side][block][name]) if kind == "count"  # type: ignore[index]
                                       else f"{_rate(answers[side][block][name])} | {_ratio(answers[side][block], name)}")  # type: ignore[index,arg-type]
                    for name, block, kind in COMPARE for side in (0, 1)}

        _settled(compare_shown, compare_expected)
    finally:
        driver.quit()


@pytest.mark.parametrize("address", ["range=ytd", "span"])
def test_a_wall_set_to_another_period_shows_its_figures(demo_server: LiveServer, address: str) -> None:
    """``?range=ytd`` and ``?from=&to=`` on a wall: the period tiles, changes and pyramid follow it."""
    today = _today()
    period = (Period(today.replace(month=1, day=1), today) if address == "range=ytd"
              else Period(today - timedelta(days=45), today - timedelta(days=6)))
    query = address if address != "span" else f"from={period.first.isoformat()}&to={period.last.isoformat()}"
    driver = chrome(1920, 1080, screen=False)
    county = demo_server.runtime.cases.county_code
    try:
        signed_in(driver, demo_server, "leader")
        driver.get(demo_server.url + f"/?tour=off&{query}")
        wall_ids = list(_wall_expected(driver, county, period))
        _settled(lambda: _texts(driver, wall_ids), lambda: _wall_expected(driver, county, period))
        words = "今年以来" if address == "range=ytd" else f"{period.first.isoformat()}至{period.last.isoformat()}"
        assert driver.find_element(By.CSS_SELECTOR, ".wall-period").text == f"统计周期：{words}"
        assert driver.find_element(By.CSS_SELECTOR, ".kpi-received_period .kpi-label").text == f"{words}受理"
    finally:
        driver.quit()
