"""Gather one report's :class:`ReportContent` for an area (the county or a township) and period.

The period figures come from the same Redis day counters and the same function as ``/api/figures``
(``dashboard.screens.area_figures``), so a report equals what the API says for its area and
period. Open and overdue are counted at the period's end (now, for a period not yet over) by SQL
over the case table, as are the period's red and orange cases and the cases overdue at its end.
Only places, categories, levels, tiers and counts are read: nothing personal enters a report.
"""

from __future__ import annotations

from datetime import date, datetime

from dashboard.cases.cache_ops import ensure_aggregates
from dashboard.domain.alerts import CaseFacts, combine_reasons, fact_reasons
from dashboard.domain.figures import PeriodCounts
from dashboard.domain.periods import Period, day_key, local_date
from dashboard.domain.report_content import MAX_TABLE_ROWS, AlertLine, LeagueRow, OverdueLine, ReportContent, WarningNote
from dashboard.domain.report_periods import ReportKind, period_name
from dashboard.domain.report_text import days_between
from dashboard.domain.rules import Rules
from dashboard.screens.area_figures import PERIOD_FIELDS, area_figures, period_counts, previous_period, \
    same_period_last_year
from dashboard.screens.panel_service import BREAKDOWN_FIELDS
from data_access import panel_queries, report_queries
from data_access.models import County

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dashboard.runtime import Runtime


class UnknownAreaError(LookupError):
    """Reports cover the county or one of its townships."""


def trend_period(kind: ReportKind, period: Period) -> Period:
    """The days the trend chart shows: 30 days to a daily report's day, 4 weeks to a week's end, the month."""
    if kind is ReportKind.daily:
        return Period.trailing(period.last, 30)
    if kind is ReportKind.weekly:
        return Period.trailing(period.last, 28)
    return period


def _level(row: report_queries.PeriodAlert | report_queries.OverdueCase, rules: Rules) -> tuple[str, tuple[str, ...]]:
    facts = CaseFacts(people_involved=row.people_involved, risk_extreme=row.risk_extreme,
                      risk_mass_incident=row.risk_mass_incident, beyond_county_petition=row.beyond_county_petition,
                      repeat_petition=row.repeat_petition, escalated=row.escalated,
                      due_at=datetime.max, closed=False, awaiting_assessment=False)
    found = fact_reasons(facts, rules)
    alert = combine_reasons(found, rules)
    return alert.level.value, tuple(alert.reasons)


def gather(rt: Runtime, *, kind: ReportKind, period: Period, area: str, lang: str, issue: int,
           now: datetime, county: str | None = None) -> ReportContent:
    county = county or rt.cases.county_code
    rules = rt.rules
    ensure_aggregates(rt, county)
    with rt.sessions() as session:
        county_row = session.get(County, county)
        names = panel_queries.township_names(session, county)
        if area != county and area not in names:
            raise UnknownAreaError(f"{area!r} is neither county {county} nor one of its townships")
        scope = None if area == county else ("township", area)
        ends = [min(p.end, now) for p in (period, previous_period(period), same_period_last_year(period))]
        instants = [report_queries.instant_counts_at(session, county=county, at=at, rules=rules, area=scope)
                    for at in ends]
        township_now = report_queries.township_instants_at(session, county=county, at=ends[0], rules=rules)
        red_new, orange_new, alerts = report_queries.period_alerts(
            session, county=county, start=period.start, end=period.end, rules=rules, area=scope, limit=MAX_TABLE_ROWS)
        overdue_total, overdue = report_queries.overdue_at(session, county=county, at=ends[0], area=scope,
                                                           limit=MAX_TABLE_ROWS)
        warnings = report_queries.period_warnings(session, county=county, start=period.start, end=period.end,
                                                  area=None if area == county else area)
        villages = panel_queries.village_names(session, [a.village_code for a in alerts]
                                               + [o.village_code for o in overdue])

    figures = area_figures(rt.redis, county, area, period, now=now, rules=rules)
    trend_days = trend_period(kind, period)
    own = panel_queries.area_day_counters(rt.redis, county, [area], [day_key(d) for d in trend_days.days()]
                                          + [day_key(d) for d in period.days()],
                                          PERIOD_FIELDS + BREAKDOWN_FIELDS)[area]
    breakdown: dict[str, dict[str, int]] = {"category.": {}, "source.": {}}
    for d in period.days():
        for name, value in own.get(day_key(d), {}).items():
            for prefix, totals in breakdown.items():
                if name.startswith(f"{area}:{prefix}"):
                    key = name.removeprefix(f"{area}:{prefix}")
                    totals[key] = totals.get(key, 0) + value
    trend: list[tuple[date, PeriodCounts]] = [(d, period_counts(own, area, Period(d, d))) for d in trend_days.days()]
    league_counts = panel_queries.area_day_counters(rt.redis, county, list(names), [day_key(d) for d in period.days()],
                                                    PERIOD_FIELDS)
    league = [LeagueRow(code, name, period_counts(league_counts.get(code, {}), code, period),
                        township_now[code].overdue if code in township_now else 0,
                        township_now[code].red if code in township_now else 0)
              for code, name in names.items()]

    alert_lines = []
    for a in alerts:
        level, reasons = _level(a, rules)
        alert_lines.append(AlertLine(local_date(a.received_at), level, names.get(a.township_code, a.township_code),
                                     villages.get(a.village_code, a.village_code), a.category, a.people_involved,
                                     reasons))
    overdue_lines = []
    for o in overdue:
        level, _ = _level(o, rules)
        overdue_lines.append(OverdueLine(names.get(o.township_code, o.township_code),
                                         villages.get(o.village_code, o.village_code), o.category, o.tier,
                                         _overdue_level(level, days_between(ends[0], o.due_at), rules),
                                         days_between(ends[0], o.due_at)))
    county_name = county_row.name if county_row else county
    return ReportContent(
        county_code=county, county_name=county_name, area_code=area,
        area_name=county_name if area == county else names[area], kind=kind, period=period,
        period_name=period_name(kind, period), issue=issue, lang=lang, compiled_at=now, instant_at=ends[0],
        current=figures.current, previous=figures.previous, last_year=figures.last_year,
        instant=instants[0], instant_previous=instants[1], instant_last_year=instants[2],
        categories=breakdown["category."], sources=breakdown["source."], trend=trend, league=league,
        alerts=alert_lines, alerts_total=red_new + orange_new, red_new=red_new, orange_new=orange_new,
        overdue_cases=overdue_lines, overdue_total=overdue_total,
        warnings=[WarningNote(f"{local_date(at):%m-%d} · {zh if lang == 'zh' else en}") for at, zh, en in warnings],
    )


def _overdue_level(fact_level: str, days_over: int, rules: Rules) -> str:
    """An overdue case is at least yellow, orange when 7+ days late (DESIGN.md), or its facts' level if higher."""
    order = ["blue", "yellow", "orange", "red"]
    clock = "orange" if days_over >= rules.orange_overdue_days and rules.levels == 4 else "yellow"
    return max(fact_level, clock, key=order.index)


def township_shapes(rt: Runtime, county: str | None = None) -> list[tuple[str, str, str]]:
    from data_access import areas

    with rt.sessions() as session:
        return [(code, name, geometry) for code, name, _, geometry in
                areas.township_geometries(session, county or rt.cases.county_code)]
