"""The tablet's figures, children and case list equal plain SQL at every level of the drill-down."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from dashboard.domain.periods import Period, local_date, named_period
from dashboard.runtime import Runtime
from dashboard.domain.areas import AreaRef
from dashboard.domain.tablet_view import CaseLine
from dashboard.screens.tablet_service import tablet_view, townships
from dashboard.screens.wall_service import SnapshotCache
from data_access import figure_queries, panel_queries
from data_access.models import Case
from tests.data_access.test_write_path import NOW, _history


def test_named_periods() -> None:
    today = date(2026, 11, 23)
    assert named_period("today", today) == Period(today, today)
    assert named_period("7d", today) == Period(date(2026, 11, 17), today)
    assert named_period("ytd", today) == Period(date(2026, 1, 1), today)
    assert named_period("custom", today, first=date(2026, 3, 1), last=date(2026, 3, 31)).days()[-1] == date(2026, 3, 31)
    for bad in ({"first": date(2026, 3, 2), "last": date(2026, 3, 1)}, {"first": date(2026, 3, 1), "last": date(2027, 1, 1)},
                {"first": date(2019, 1, 1), "last": date(2026, 1, 1)}):
        with pytest.raises(ValueError):
            named_period("custom", today, **bad)
    with pytest.raises(ValueError):
        named_period("fortnight", today)


@pytest.mark.parametrize("level", ["county", "township", "village", "grid"])
def test_every_tablet_figure_equals_sql(runtime: Runtime, county: str, level: str) -> None:
    _history(runtime)
    code = {"county": county, "township": "990101001", "village": "990101001002", "grid": "990101001002001"}[level]
    period = named_period("30d", local_date(NOW))
    view = tablet_view(runtime, SnapshotCache(runtime), county=county, code=code, period=period, now=NOW)
    area = None if level == "county" else (level, code)
    assert [ref.level for ref in view.path] == ["county", "township", "village", "grid"][: len(view.path)]
    assert view.area.code == code
    with runtime.sessions() as session:
        assert view.figures.current == figure_queries.period_counts(session, county_code=county, start=period.start,
                                                                    end=period.end, area=area)
        assert view.figures.now == figure_queries.instant_counts(session, county_code=county, now=NOW, area=area)
        for row in view.children:
            child = (view.child_level, row.code)
            assert row.counts == figure_queries.period_counts(session, county_code=county, start=period.start,
                                                              end=period.end, area=child)
            sql_now = figure_queries.instant_counts(session, county_code=county, now=NOW, area=child)
            assert (row.open, row.overdue, row.red) == (sql_now.open, sql_now.overdue, sql_now.red)
        where = [Case.county_code == county, Case.received_at >= period.start, Case.received_at < period.end]
        if area:
            where.append(figure_queries.AREA_COLUMNS[level] == code)
        assert view.total_cases == session.scalar(select(func.count(Case.id)).where(*where))
    assert len(view.cases) == min(50, view.total_cases)
    assert [c.received_at for c in view.cases] == sorted((c.received_at for c in view.cases), reverse=True)
    assert (level == "grid") == (not view.children), "a grid is the smallest area"
    assert level != "county" or view.figures.current.received > 0
    assert all(isinstance(ref, AreaRef) for ref in view.path) and all(isinstance(c, CaseLine) for c in view.cases), \
        "the view holds plain domain values, for builders that never query"


def test_the_comparison_picker_offers_the_countys_townships(runtime: Runtime, county: str) -> None:
    with runtime.sessions() as session:
        expected = [(code, name) for code, name in panel_queries.township_names(session, county).items()]
    found = townships(runtime, county)
    assert [(t.code, t.name) for t in found] == expected and expected
    assert {t.level for t in found} == {"township"}
    assert townships(runtime, "000000") == [], "an unknown county has none"


def test_unknown_area_is_refused(runtime: Runtime, county: str) -> None:
    period = named_period("30d", local_date(NOW))
    with pytest.raises(LookupError):
        tablet_view(runtime, SnapshotCache(runtime), county=county, code="990101009", period=period, now=NOW)
    with runtime.sessions() as session:
        assert panel_queries.area_path(session, county, "220283001") == []
