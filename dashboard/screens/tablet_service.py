"""What the leader's tablet shows for one area and period: its figures against the previous
period and last year, its child areas, and its newest cases (no personal data).

The answers are ``dashboard.domain.tablet_view`` values, so the tablet's builders draw them
without reading anything themselves.
"""

from __future__ import annotations

from datetime import datetime

from dashboard.domain.areas import AreaRef, AreaRow
from dashboard.domain.periods import Period, day_key
from dashboard.domain.tablet_view import PeriodComparison, TabletView
from dashboard.access.scope import caller_sees
from dashboard.runtime import Runtime
from dashboard.screens import rollup
from dashboard.screens.area_figures import PERIOD_FIELDS, area_figures, period_counts
from dashboard.screens.wall_service import SnapshotCache
from data_access import panel_queries

def townships(rt: Runtime, county: str) -> list[AreaRef]:
    """The county's townships, for the comparison picker."""
    with rt.sessions() as session:
        path = panel_queries.area_path(session, county, county)
        return panel_queries.children(session, path[0]) if path else []


def tablet_view(rt: Runtime, snapshots: SnapshotCache, *, county: str, code: str, period: Period, now: datetime,
                with_cases: bool = True) -> TabletView:
    """The view of ``code``: a city or province (``rollup.region_view``), or an area of a county.

    An area of another served county than ``county`` is shown in its own county. The path starts
    at the province or city above the county where those are known and the caller sees them.
    Raises ``LookupError`` for an area that is not one here or lies outside the caller's area."""
    if rollup.is_region(code):
        return rollup.region_view(rt, snapshots, code, period, now, with_cases=with_cases)
    if not code.startswith(county) and len(code) >= 6 and code[:6] in rt.served_counties():
        county = code[:6]
    if not caller_sees(code):
        raise LookupError(f"{code!r} is not an area of county {county}")
    with rt.sessions() as session:
        path = panel_queries.area_path(session, county, code)
        if not path:
            raise LookupError(f"{code!r} is not an area of county {county}")
        area = path[-1]
        kids = panel_queries.children(session, area)
        kinds = panel_queries.kinds_of(session, kids)
        red = panel_queries.red_by_area(session, county, kids[0].level, within=(area.level, area.code)) if kids else {}
        total, lines = (panel_queries.cases_in(session, county, area, start=period.start, end=period.end)
                        if with_cases else (0, []))
    figures = area_figures(rt.redis, county, area.code, period, now=now, rules=rt.rules)
    snapshot = snapshots.get(county, now)
    day_keys = [day_key(d) for d in period.days()]
    counters = panel_queries.area_day_counters(rt.redis, county, [k.code for k in kids], day_keys, PERIOD_FIELDS)
    rows = []
    for kid in kids:
        state = snapshot.areas.get(kid.code)
        rows.append(AreaRow(kid.code, kid.name, period_counts(counters.get(kid.code, {}), kid.code, period), state.open if state else 0,
                            state.overdue if state else 0, red.get(kid.code, 0),
                            state.alert.level if state and state.alert else None, kinds.get(kid.code)))
    comparison = PeriodComparison(figures.current, figures.previous, figures.last_year, figures.now)
    return TabletView([*rollup.regions_above(rt, county), *path], period, comparison, rows, total, lines)
