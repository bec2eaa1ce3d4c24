"""What the leader's tablet shows for one area and period: its figures against the previous
period and last year, its child areas, and its newest cases (no personal data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dashboard.screens.area_figures import PERIOD_FIELDS, AreaFigures, area_figures, period_counts
from dashboard.domain.periods import Period, day_key
from dashboard.runtime import Runtime
from dashboard.screens.wall_panels import AreaRow
from dashboard.screens.wall_service import SnapshotCache
from data_access import panel_queries
from data_access.panel_queries import AreaRef, CaseLine


@dataclass(frozen=True)
class TabletView:
    path: list[AreaRef]
    period: Period
    figures: AreaFigures
    children: list[AreaRow]
    """One level below the area (villages of a township, …); empty for a grid."""
    total_cases: int
    cases: list[CaseLine]

    @property
    def area(self) -> AreaRef:
        return self.path[-1]

    @property
    def child_level(self) -> str | None:
        return panel_queries.CHILD_LEVEL.get(self.area.level)


def tablet_view(rt: Runtime, snapshots: SnapshotCache, *, county: str, code: str, period: Period, now: datetime,
                with_cases: bool = True) -> TabletView:
    """Raises ``LookupError`` for an area outside the county."""
    with rt.sessions() as session:
        path = panel_queries.area_path(session, county, code)
        if not path:
            raise LookupError(f"{code!r} is not an area of county {county}")
        area = path[-1]
        kids = panel_queries.children(session, area)
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
                            state.alert.level if state and state.alert else None))
    return TabletView(path, period, figures, rows, total, lines)
