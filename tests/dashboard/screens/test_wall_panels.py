"""The wall's side panels: pure cell builders, and every panel figure equal to plain SQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from dashboard.domain.areas import AreaRow
from dashboard.domain.figure_text import change_cell, relative_change
from dashboard.domain.figures import PeriodCounts
from dashboard.domain.periods import Period, local_date
from dashboard.domain.vocabulary import AlertLevel, Category
from dashboard.domain.wall_values import TICKER_ROWS
from dashboard.live.live_state import screen_state
from dashboard.runtime import Runtime
from dashboard.screens.area_figures import previous_period, same_period_last_year
from dashboard.screens.panel_service import PanelService
from dashboard.screens.wall_panels import PanelInputs, TickerItem, league_order, panel_cells, worst_first
from dashboard.screens.wall_service import SnapshotCache
from data_access import figure_queries
from data_access.models import Case
from tests.data_access.test_write_path import NOW, _history
from tests.factories import draft


def _row(code: str, *, received: int, closed: int, overdue: int = 0, red: int = 0) -> AreaRow:
    return AreaRow(code, f"镇{code}", PeriodCounts(received=received, closed=closed), overdue + red, overdue, red,
                       AlertLevel.red if red else None)


def test_change_figures_compare_with_previous_and_last_year() -> None:
    assert relative_change(110, 100) == 10.0 and relative_change(90, 100) == -10.0
    assert relative_change(5, 0) is None, "nothing to compare with is a dash, not infinity"
    assert change_cell(10.0, "%") == {"children": "↑10.0%", "className": "chg chg-up"}
    assert change_cell(-0.25, "pt") == {"children": "↓0.25pt", "className": "chg chg-down"}
    assert change_cell(None, "%")["children"] == "—"


def test_league_is_best_first_and_tour_visits_the_worst() -> None:
    rows = [_row("1", received=10, closed=9), _row("2", received=10, closed=10, overdue=3),
            _row("3", received=0, closed=0), _row("4", received=10, closed=5, red=2)]
    assert [r.code for r in league_order(rows)] == ["2", "1", "4", "3"]
    assert [r.code for r in worst_first(rows)] == ["4", "2"], "only townships with red or overdue cases, worst first"


def _inputs(**overrides: object) -> PanelInputs:
    base = PanelInputs(
        area="990101", period=Period.trailing(NOW.date(), 30), today=PeriodCounts(received=3, closed=1),
        current=PeriodCounts(received=200, closed=190, closed_village=150, closed_township=30, closed_county=10,
                             followed_up=100, satisfied=95),
        previous=PeriodCounts(received=100, closed=99, followed_up=10, satisfied=10),
        last_year=PeriodCounts(), categories={"land": 40, "debt": 10}, sources={"petition": 5},
        trend=[(date(2026, 11, 1) + timedelta(days=i), PeriodCounts(received=i, closed=i // 2)) for i in range(30)],
        townships=[_row("990101001", received=10, closed=9, red=1), _row("990101002", received=5, closed=5)],
        ticker=[TickerItem(7, NOW, AlertLevel.red, "测试镇1 · 测试村1-1", Category.land, 35, ("people_red",))],
    )
    return PanelInputs(**{**base.__dict__, **overrides})  # type: ignore[arg-type]


def test_cells_hold_numbers_bars_and_words() -> None:
    cells = panel_cells(_inputs(), "zh")
    assert cells["kpi-received_period"] == {"children": "200"}
    assert cells["chg-received_period-mom"]["children"] == "↑100.0%"
    assert cells["chg-received_period-yoy"]["children"] == "—"
    assert cells["cat-land-bar"] == {"style": {"width": "100.0%"}} and cells["cat-debt-bar"]["style"] == {"width": "25.0%"}
    assert cells["cat-medical-n"] == {"children": "0"}
    assert cells["tier-village-pct"] == {"children": "78.95%"}
    assert cells["trend-29"]["style"] == {"--v": 29} and "11-30" in cells["trend-29"]["title"]
    assert cells["trend-bars"] == {"style": {"--max": 29}}, "bars are scaled by the stylesheet against the busiest day"
    assert cells["league-0-name"] == {"children": "镇990101002"}, "100% closure ranks first"
    assert cells["league-1-red"] == {"children": "1", "className": "num num-red"}
    assert cells["ticker-0-level"]["children"] == "红色" and "涉及30人以上" in cells["ticker-0-what"]["children"]
    assert cells[f"ticker-{TICKER_ROWS - 1}"]["className"] == "ticker-row ticker-empty"
    assert cells["_tour"]["order"] == ["990101001"]
    assert panel_cells(_inputs(), "en")["ticker-0-level"]["children"] == "Red"


def test_every_cell_has_an_element_on_the_wall() -> None:
    from layouts.wall import wall

    def ids(node: object) -> set[str]:
        found: set[str] = set()
        if isinstance(node, (list, tuple)):
            for child in node:
                found |= ids(child)
        elif hasattr(node, "to_plotly_json"):
            props = node.to_plotly_json()["props"]
            if isinstance(props.get("id"), str):
                found.add(props["id"])
            found |= ids(props.get("children"))
        return found

    layout = wall(county="990101", county_name="测试县", bounds=[[44, 127], [44.2, 127.8]], lang="zh", stale_ms=15000,
                  build="b", townships=2)
    cells = {k for k in panel_cells(_inputs(), "zh") if not k.startswith("_")}
    assert cells <= ids(layout), sorted(cells - ids(layout))


MONTH = Period.trailing(local_date(NOW), 30)


def _sql_period(session, county: str, period: Period, area: tuple[str, str] | None = None) -> PeriodCounts:
    return figure_queries.period_counts(session, county_code=county, start=period.start, end=period.end, area=area)


SPANS = {"30 days": MONTH, "a span": Period(local_date(NOW) - timedelta(days=40), local_date(NOW) - timedelta(days=3))}
"""The snapshot's own 30-day window, and a span the league must sum itself (``?from=&to=`` on a wall)."""


@pytest.mark.parametrize("scope", ["county", "township"])
@pytest.mark.parametrize("span", list(SPANS))
def test_every_panel_figure_equals_sql(runtime: Runtime, county: str, scope: str, span: str) -> None:
    _history(runtime)
    area = county if scope == "county" else "990101001"
    area_filter = None if scope == "county" else ("township", area)
    month = SPANS[span]
    snapshot = SnapshotCache(runtime).get(county, NOW, period=month)
    inputs = PanelService(runtime).get(snapshot, area=area, period=month, now=NOW)
    with runtime.sessions() as session:
        assert inputs.current == _sql_period(session, county, month, area_filter)
        assert inputs.previous == _sql_period(session, county, previous_period(month), area_filter)
        assert inputs.last_year == _sql_period(session, county, same_period_last_year(month), area_filter)
        assert inputs.today == _sql_period(session, county, Period.trailing(local_date(NOW), 1), area_filter)
        for day, counts in inputs.trend:
            assert counts == _sql_period(session, county, Period(day, day), area_filter)
        for field, got in (("category", inputs.categories), ("source", inputs.sources)):
            stmt = (select(getattr(Case, field), func.count(Case.id))
                    .where(Case.county_code == county, Case.received_at >= month.start, Case.received_at < month.end)
                    .group_by(getattr(Case, field)))
            if area_filter:
                stmt = stmt.where(Case.township_code == area)
            assert {k: v for k, v in got.items() if v} == dict(session.execute(stmt).all())
        for row in inputs.townships:
            sql_now = figure_queries.instant_counts(session, county_code=county, now=NOW, area=("township", row.code))
            assert row.counts == _sql_period(session, county, month, ("township", row.code))
            assert (row.open, row.overdue, row.red) == (sql_now.open, sql_now.overdue, sql_now.red)
        stmt = (select(Case.id).where(Case.county_code == county, Case.resolved_at.is_(None),
                                      Case.alert_level.in_(("red", "orange")))
                .order_by((Case.alert_level == "red").desc(), Case.updated_at.desc(), Case.id.desc()).limit(TICKER_ROWS))
        if area_filter:
            stmt = stmt.where(Case.township_code == area)
        assert [t.case_id for t in inputs.ticker] == list(session.scalars(stmt))
    assert inputs.current.received > 0
    if scope == "county":
        assert any(r.red for r in inputs.townships) and inputs.ticker, "the history must exercise red alerts"

    state = screen_state(snapshot, build="b", panels=inputs, lang="zh")
    with runtime.sessions() as session:
        sql_now = figure_queries.instant_counts(session, county_code=county, now=NOW, area=area_filter)
    assert state["kpis"]["open"] == f"{sql_now.open:,}" and state["kpis"]["red_alerts"] == f"{sql_now.red:,}"
    assert state["kpis"]["received_today"] == f"{inputs.today.received:,}"


def test_unknown_township_is_refused(runtime: Runtime, county: str) -> None:
    snapshot = SnapshotCache(runtime).get(county, NOW)
    with pytest.raises(LookupError):
        PanelService(runtime).get(snapshot, area="123", period=MONTH, now=NOW)


def test_ticker_never_carries_the_case_text(runtime: Runtime, county: str) -> None:
    planted = "张三丰 13812345678 吉林省舒兰市某街1号"
    runtime.cases.submit(draft(1, NOW - timedelta(hours=2), people_involved=40, description=planted), actor="窗口", now=NOW)
    snapshot = SnapshotCache(runtime).get(county, NOW)
    cells = panel_cells(PanelService(runtime).get(snapshot, area=county, period=MONTH, now=NOW), "zh")
    assert cells["ticker-0-level"]["children"] == "红色"
    assert "张三丰" not in str(cells) and "138123" not in str(cells), "descriptions stay off the wall"


def test_a_new_busiest_day_changes_one_trend_cell_not_every_bar() -> None:
    """A live update carries what changed: today's bar and the scale, not thirty rescaled bars."""
    before = _inputs()
    busier = replace(before, trend=[*before.trend[:-1], (before.trend[-1][0], PeriodCounts(received=40, closed=14))])
    old, new = panel_cells(before, "zh"), panel_cells(busier, "zh")
    changed = {cell for cell in new if cell.startswith("trend") and old.get(cell) != new[cell]}
    assert changed == {"trend-bars", "trend-29", "trend-29-closed", "trend-max"}
