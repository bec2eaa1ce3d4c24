"""Wall callbacks as plain functions."""

from __future__ import annotations

from datetime import date

from callbacks.wall import screen_params, wall_page
from dashboard.runtime import Runtime
from dashboard.domain.periods import Period
from dashboard.domain.screen_period import ScreenPeriod

TODAY = date(2026, 11, 23)


def test_screen_params_default_and_override() -> None:
    assert screen_params("", "zh", today=TODAY) == {"lang": "zh", "county": None, "township": None, "region": None,
                                                    "period": ScreenPeriod(), "tour": True,
                                                    "tour_seconds": (40, 10)}
    assert screen_params("?lang=en&county=220283&township=220283101&days=365&tour=off", "zh", today=TODAY) == {
        "lang": "en", "county": "220283", "township": "220283101", "region": None, "period": ScreenPeriod(days=365),
        "tour": False, "tour_seconds": (40, 10)}
    assert screen_params("?lang=fr&days=-3&township=x';--&area=x'00", "zh", today=TODAY) == {
        "lang": "zh", "county": None, "township": None, "region": None, "period": ScreenPeriod(), "tour": True,
        "tour_seconds": (40, 10)}


def test_area_sets_the_wall_to_any_level() -> None:
    def where(search: str) -> tuple[object, object, object]:
        params = screen_params(search, "zh", today=TODAY)
        return params["county"], params["township"], params["region"]

    assert where("?area=220000") == (None, None, "220000")
    assert where("?area=220200") == (None, None, "220200")
    assert where("?area=220284") == ("220284", None, None)
    assert where("?area=220284101") == ("220284", "220284101", None)
    assert where("?county=220283&township=220283101") == ("220283", "220283101", None), "the older keys still work"
    assert where("?area=2202") == (None, None, None) and where("?area=" + "2" * 40) == (None, None, None)
    assert screen_params("?days=99999", "en", today=TODAY)["period"] == ScreenPeriod()


def _period(search: str) -> Period:
    period: ScreenPeriod = screen_params(search, "zh", today=TODAY)["period"]
    return period.period(TODAY)


def test_wall_period_takes_the_tablets_ranges_and_a_span() -> None:
    assert _period("?range=today") == Period(TODAY, TODAY)
    assert _period("?range=7d") == Period(date(2026, 11, 17), TODAY)
    assert _period("?range=30d") == Period.trailing(TODAY, 30)
    assert _period("?range=ytd") == Period(date(2026, 1, 1), TODAY)
    assert _period("?from=2025-01-01&to=2025-12-31") == Period(date(2025, 1, 1), date(2025, 12, 31))
    assert _period("?from=2025-01-01&to=2025-12-31&range=7d&days=90") == Period(date(2025, 1, 1), date(2025, 12, 31)), \
        "a span wins over a range, a range over days"
    assert _period("?range=7d&days=90") == Period(date(2026, 11, 17), TODAY)


def test_wall_period_refuses_what_is_not_a_period() -> None:
    for search in ("?range=forever", "?from=2025-12-31&to=2025-01-01", "?from=2026-11-01&to=2026-12-31",
                   "?from=2020-01-01&to=2026-11-01", "?from=2025-01-01", "?from=2025-13-01&to=2025-13-02"):
        assert _period(search) == Period.trailing(TODAY, 30), search


def test_screen_period_key_round_trips() -> None:
    for period in (ScreenPeriod(), ScreenPeriod(days=7), ScreenPeriod(ytd=True),
                   ScreenPeriod(span=(date(2025, 1, 1), date(2025, 12, 31)))):
        assert ScreenPeriod.from_key(period.key) == period
    assert ScreenPeriod(span=(date(2025, 1, 1), date(2025, 12, 31))).words("zh")["period"] == "2025-01-01至2025-12-31"
    assert ScreenPeriod(ytd=True).words("en") == {"period": "year to date", "period_long": "year to date"}
    assert ScreenPeriod(days=1).words("zh")["period"] == "今日"
    assert ScreenPeriod().words("zh") == {"period": "近30日", "period_long": "近30日"}


def test_tour_timing_by_url() -> None:
    assert screen_params("?tour_home=5&tour_stop=2", "zh", today=TODAY)["tour_seconds"] == (5, 2)
    assert screen_params("?tour_home=0&tour_stop=99999", "zh", today=TODAY)["tour_seconds"] == (40, 10)
    assert screen_params("?tour_home=-1&tour_stop=x", "zh", today=TODAY)["tour_seconds"] == (40, 10)


def test_an_unknown_county_in_the_address_shows_the_default_county(runtime: Runtime, county: str) -> None:
    """Not a server error for a leader who mistypes ?county=; a screen session never gets this far (security)."""
    assert repr(wall_page(runtime, "?county=999999", build="b")) == repr(wall_page(runtime, "", build="b"))
    assert county in repr(wall_page(runtime, "?county=999999", build="b"))


def test_a_city_wall_shows_its_counties(runtime: Runtime, county: str) -> None:
    from layouts import ids
    from tests.dashboard.screens.region_support import CITY, PROVINCE, import_city
    from tests.layouts.tree import by_id, nodes

    counties = import_city(runtime)
    page = wall_page(runtime, f"?area={CITY}&tour_stop=5", build="b")
    anchor = by_id(page, ids.LIVE)
    assert anchor.to_plotly_json()["props"]["data-area"] == CITY
    assert anchor.to_plotly_json()["props"]["data-county"] in counties, "the stream names a county of the city"
    assert by_id(page, ids.GRIDS).url == f"/api/geo/region/{CITY}" == by_id(page, ids.TOWNSHIPS).url
    assert by_id(page, ids.TITLE).children.startswith("测试市")
    assert [n.id for n in nodes(page) if str(getattr(n, "id", "")).endswith("-name") and
            str(n.id).startswith("league-")] == [f"league-{i}-name" for i in range(len(counties))]
    assert "区县排行" in repr(page) and "各区县按其最高预警等级着色" in repr(page)
    province = wall_page(runtime, f"?area={PROVINCE}", build="b")
    assert "各市排行" in repr(province) and by_id(province, ids.GRIDS).url == f"/api/geo/region/{PROVINCE}"
    township = wall_page(runtime, "?area=990102001", build="b")
    assert by_id(township, ids.LIVE).to_plotly_json()["props"]["data-area"] == "990102001"
    assert by_id(township, ids.LIVE).to_plotly_json()["props"]["data-county"] == "990102"
    assert repr(wall_page(runtime, "?area=990300", build="b")) == repr(wall_page(runtime, "", build="b")), \
        "a region holding no served county shows the default county"
