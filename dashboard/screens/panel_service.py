"""Fetch what the wall's side panels need for one screen kind.

Period figures come from the Redis day counters (the same counters as every other figure);
open, overdue and area levels from the wall snapshot; red counts and the newest alerts from SQL
over open cases, which an index keeps small. Nothing here is cached: the live hub computes the
panels once per refresh and screen kind and keeps the result in its ``screen-state`` region
(``dashboard.screens.caches``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dashboard.screens.area_figures import PERIOD_FIELDS, period_counts, previous_period, same_period_last_year
from dashboard.domain.figures import PeriodCounts
from dashboard.domain.periods import Period, day_key, day_start, local_date
from dashboard.runtime import Runtime
from dashboard.domain.vocabulary import AlertLevel, Category, Source
from dashboard.domain.areas import AreaRow
from dashboard.domain.wall_values import TREND_DAYS
from dashboard.screens.wall_panels import PanelInputs, TickerItem
from dashboard.screens.wall_snapshot import WINDOW_DAYS, WallSnapshot
from dashboard.warnings import service as warning_service
from data_access import matters, panel_queries

BREAKDOWN_FIELDS = [f"category.{c.value}" for c in Category] + [f"source.{s.value}" for s in Source]


def _breakdown(per_day: dict[str, dict[str, int]], day_keys: list[str], prefix: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    for d in day_keys:
        for name, value in per_day.get(d, {}).items():
            if name.startswith(prefix):
                key = name.removeprefix(prefix)
                totals[key] = totals.get(key, 0) + value
    return totals


class PanelService:
    """The side panels' inputs from the aggregates, the wall snapshot and SQL over open cases."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def get(self, snapshot: WallSnapshot, *, area: str, period: Period, now: datetime) -> PanelInputs:
        """The panels of ``area`` (the county or one of its townships) over ``period``.

        Raises ``LookupError`` for an area that is neither.
        """
        county = snapshot.county
        today = local_date(now)
        in_window = period == Period.trailing(today, WINDOW_DAYS)
        previous, last_year = previous_period(period), same_period_last_year(period)
        trend_period = Period.trailing(today, TREND_DAYS)
        period_keys = [day_key(d) for d in period.days()]
        area_keys = sorted({day_key(d) for p in (period, previous, last_year, trend_period) for d in p.days()})

        with self.rt.sessions() as session:
            names = panel_queries.township_names(session, county)
            if area != county and area not in names:
                raise LookupError(f"{area!r} is not a township of county {county}")
            red = panel_queries.red_by_area(session, county, "township")
            alerts = panel_queries.newest_alerts(session, county, township=area if area != county else None)
            villages = panel_queries.village_names(session, [a.village_code for a in alerts])
            repeats = matters.repeats(session, county_code=county, start=day_start(period.first),
                                      end=day_start(period.last + timedelta(days=1)),
                                      area=None if area == county else ("township", area))
            warned = warning_service.open_in(session, county, area)

        client = self.rt.redis
        own = panel_queries.area_day_counters(client, county, [area], area_keys, PERIOD_FIELDS + BREAKDOWN_FIELDS)[area]
        # The snapshot already sums the 30-day window per area; other periods read each township.
        league = ({} if in_window else
                  panel_queries.area_day_counters(client, county, list(names), period_keys, PERIOD_FIELDS))

        rows = []
        for code, name in names.items():
            state = snapshot.areas.get(code)
            counts = (state.last_30_days if state else PeriodCounts()) if in_window else period_counts(
                league.get(code, {}), code, period)
            rows.append(AreaRow(
                code=code, name=name, counts=counts,
                open=state.open if state else 0, overdue=state.overdue if state else 0, red=red.get(code, 0),
                alert=state.alert.level if state and state.alert else None,
            ))
        ticker = [
            TickerItem(case_id=a.case_id, at=a.updated_at, level=AlertLevel(a.level),
                       place=f"{names.get(a.township_code, a.township_code)} · {villages.get(a.village_code, '')}".rstrip(" ·"),
                       category=Category(a.category), people=a.people_involved,
                       reasons=tuple(r for r in a.reasons.split(",") if r))
            for a in alerts
        ]

        trend: list[tuple[date, PeriodCounts]] = [(d, period_counts(own, area, Period(d, d))) for d in trend_period.days()]
        return PanelInputs(
            area=area, period=period,
            today=period_counts(own, area, Period(today, today)),
            current=period_counts(own, area, period),
            previous=period_counts(own, area, previous),
            last_year=period_counts(own, area, last_year),
            categories=_breakdown(own, period_keys, f"{area}:category."),
            sources=_breakdown(own, period_keys, f"{area}:source."),
            trend=trend,
            townships=rows,
            ticker=ticker,
            focus=area if area != county else None,
            repeats=repeats,
            warnings=warned,
        )
