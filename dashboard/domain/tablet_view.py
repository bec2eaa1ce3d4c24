"""What the leader's tablet shows for one area and period, as plain values: the drill-down path,
the area's figures against the previous period and last year, its child areas and its newest
cases (no personal data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dashboard.domain.areas import CHILD_LEVEL, AreaRef, AreaRow
from dashboard.domain.figures import InstantCounts, PeriodCounts
from dashboard.domain.periods import Period


@dataclass(frozen=True)
class CaseLine:
    """One case as a list shows it: it has no personal fields, so a list cannot show any."""

    id: int
    received_at: datetime
    category: str
    source: str
    status: str
    tier: str
    alert_level: str | None
    alert_reasons: str
    """Comma-separated reason codes; empty when the case has no alert."""
    grid_code: str
    due_at: datetime
    resolved_at: datetime | None
    supervised: bool
    acknowledged_at: datetime | None
    acknowledged_by: str | None


@dataclass(frozen=True)
class PeriodComparison:
    """An area's period counts beside the previous period (环比) and the same period last year
    (同比), and its open, overdue and red cases now."""

    current: PeriodCounts
    previous: PeriodCounts
    last_year: PeriodCounts
    now: InstantCounts


@dataclass(frozen=True)
class TabletView:
    path: list[AreaRef]
    """(Province → city →) county → … → the area shown, for the breadcrumb; the regions above a
    county where they are known and the caller sees them."""
    period: Period
    figures: PeriodComparison
    children: list[AreaRow]
    """One level below the area (cities of a province, counties of a city, villages of a township,
    …); empty for a grid. For a province, city or county these rows are its league table."""
    total_cases: int
    cases: list[CaseLine]
    """The newest ``cases`` of the ``total_cases`` received in the period."""

    @property
    def area(self) -> AreaRef:
        return self.path[-1]

    @property
    def child_level(self) -> str | None:
        return CHILD_LEVEL.get(self.area.level)
