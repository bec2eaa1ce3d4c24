"""A city's and a province's figures, league and tablet view equal plain SQL over all their cases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dashboard.domain.figures import percent
from dashboard.domain.periods import Period, local_date, named_period
from dashboard.domain.vocabulary import AlertLevel
from dashboard.runtime import Runtime
from dashboard.screens import rollup
from dashboard.screens.area_figures import previous_period, same_period_last_year
from dashboard.screens.tablet_service import tablet_view
from dashboard.screens.wall_service import SnapshotCache
from data_access.models import Case
from tests.dashboard.screens.region_support import (
    CITY,
    ELSEWHERE,
    NOW,
    PROVINCE,
    history,
    import_city,
    sql_instant,
    sql_period,
)


def _city(rt: Runtime) -> list[str]:
    counties = import_city(rt)
    for seed, county in enumerate([*counties, ELSEWHERE]):
        history(rt, county, cases=14 + 5 * seed, seed=seed)
    return counties


@pytest.mark.parametrize("cached", [False, True], ids=["exact", "snapshots"])
def test_city_figures_equal_sql_over_all_its_cases(runtime: Runtime, county: str, cached: bool) -> None:
    counties = _city(runtime)
    snapshots = SnapshotCache(runtime) if cached else None
    for period in (named_period("30d", local_date(NOW)), named_period("7d", local_date(NOW)),
                   named_period("ytd", local_date(NOW))):
        figures = rollup.region_figures(runtime, CITY, period, now=NOW, snapshots=snapshots)
        with runtime.sessions() as session:
            for counts, shown in ((figures.current, period), (figures.previous, previous_period(period)),
                                  (figures.last_year, same_period_last_year(period))):
                assert counts == sql_period(session, counties, shown.start, shown.end)
            assert figures.now == sql_instant(session, counties, NOW)
        assert figures.area == CITY and figures.period == period
    month = rollup.region_figures(runtime, CITY, named_period("30d", local_date(NOW)), now=NOW, snapshots=snapshots)
    assert month.current.received > 0 and month.now.open > 0 and month.last_year.received > 0
    assert month.current.closure_rate == percent(month.current.closed, month.current.received)


def test_rates_come_from_summed_counts_not_averaged(runtime: Runtime, county: str) -> None:
    counties = _city(runtime)
    period = named_period("30d", local_date(NOW))
    city = rollup.region_figures(runtime, CITY, period, now=NOW)
    with runtime.sessions() as session:
        each = [sql_period(session, [c], period.start, period.end) for c in counties]
    assert len({c.received for c in each}) > 1, "the counties differ in size, so an average of rates would be wrong"
    average = round(sum(c.closure_rate or 0 for c in each) / len(each), 2)
    exact = percent(sum(c.closed for c in each), sum(c.received for c in each))
    assert city.current.closure_rate == exact
    assert exact != average


def test_province_holds_every_city(runtime: Runtime, county: str) -> None:
    counties = _city(runtime)
    period = named_period("30d", local_date(NOW))
    figures = rollup.region_figures(runtime, PROVINCE, period, now=NOW)
    with runtime.sessions() as session:
        assert figures.current == sql_period(session, [*counties, ELSEWHERE], period.start, period.end)
        assert figures.now == sql_instant(session, [*counties, ELSEWHERE], NOW)
    assert rollup.region_counties(runtime, CITY) == counties
    assert rollup.region_counties(runtime, PROVINCE) == [*counties, ELSEWHERE]


def test_unknown_regions_are_refused(runtime: Runtime, county: str) -> None:
    period = named_period("30d", local_date(NOW))
    for code in ("990300", "980000", "990101", "99x100", ""):
        with pytest.raises(LookupError):
            rollup.region_figures(runtime, code, period, now=NOW)
        with pytest.raises(LookupError):
            rollup.region_view(runtime, SnapshotCache(runtime), code, period, NOW)


def test_city_view_lists_its_counties_as_a_league_equal_to_sql(runtime: Runtime, county: str) -> None:
    counties = _city(runtime)
    snapshots = SnapshotCache(runtime)
    for period in (named_period("30d", local_date(NOW)), named_period("7d", local_date(NOW))):
        view = tablet_view(runtime, snapshots, county=county, code=CITY, period=period, now=NOW)
        assert [(ref.code, ref.level) for ref in view.path] == [(PROVINCE, "province"), (CITY, "city")]
        assert [ref.name for ref in view.path] == ["测试省", "测试市"]
        assert view.child_level == "county"
        assert [row.code for row in view.children] == counties
        with runtime.sessions() as session:
            assert view.figures.current == sql_period(session, counties, period.start, period.end)
            assert view.figures.now == sql_instant(session, counties, NOW)
            for row in view.children:
                assert row.counts == sql_period(session, [row.code], period.start, period.end)
                now = sql_instant(session, [row.code], NOW)
                assert (row.open, row.overdue, row.red) == (now.open, now.overdue, now.red)
                assert row.alert == snapshots.get(row.code, NOW).areas[row.code].alert.level  # type: ignore[union-attr]
            assert view.total_cases == session.scalar(select(func.count(Case.id)).where(
                Case.county_code.in_(counties), Case.received_at >= period.start, Case.received_at < period.end))
        assert len(view.cases) == min(50, view.total_cases) and view.cases
        assert [(c.received_at, c.id) for c in view.cases] == sorted(((c.received_at, c.id) for c in view.cases), reverse=True)
        assert {c.grid_code[:6] for c in view.cases} <= set(counties)


def test_province_view_lists_its_cities_with_their_highest_alert(runtime: Runtime, county: str) -> None:
    counties = _city(runtime)
    snapshots = SnapshotCache(runtime)
    period = named_period("30d", local_date(NOW))
    view = tablet_view(runtime, snapshots, county=county, code=PROVINCE, period=period, now=NOW, with_cases=False)
    assert [ref.code for ref in view.path] == [PROVINCE] and view.child_level == "city"
    assert [row.code for row in view.children] == [CITY, ELSEWHERE[:4] + "00"]
    city_row = view.children[0]
    assert city_row.name == "测试市" and view.children[1].name == "990200", "a city known only by its counties' codes"
    with runtime.sessions() as session:
        assert city_row.counts == sql_period(session, counties, period.start, period.end)
        assert city_row.open == sql_instant(session, counties, NOW).open
    levels = [snapshots.get(c, NOW).areas[c].alert for c in counties]
    assert city_row.alert == max((a.level for a in levels if a), key=lambda level: level.rank)
    assert isinstance(city_row.alert, AlertLevel)
    assert view.total_cases == 0 and view.cases == []


def test_county_paths_start_at_the_city(runtime: Runtime, county: str) -> None:
    import_city(runtime)
    history(runtime, "990102", cases=20, seed=1)
    period = Period.trailing(local_date(NOW), 30)
    snapshots = SnapshotCache(runtime)
    view = tablet_view(runtime, snapshots, county=county, code="990102001002", period=period, now=NOW)
    assert [ref.code for ref in view.path] == [PROVINCE, CITY, "990102", "990102001", "990102001002"]
    assert [ref.level for ref in view.path] == ["province", "city", "county", "township", "village"]
    with runtime.sessions() as session:
        assert view.figures.current.received == session.scalar(select(func.count(Case.id)).where(
            Case.village_code == "990102001002", Case.received_at >= period.start, Case.received_at < period.end))
    own = tablet_view(runtime, snapshots, county=county, code=county, period=period, now=NOW)
    assert [ref.code for ref in own.path] == [PROVINCE, CITY, county]


def test_a_county_path_leaves_unknown_regions_out(runtime: Runtime, county: str) -> None:
    import_city(runtime, region_rows=False)
    view = tablet_view(runtime, SnapshotCache(runtime), county=county, code=county,
                       period=Period.trailing(local_date(NOW), 30), now=NOW)
    assert [ref.code for ref in view.path] == [county], "no city or province imported, none served"
