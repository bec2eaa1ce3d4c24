"""What one written report holds, as plain values (no personal data can be represented here).

``dashboard.reports.content`` fills a :class:`ReportContent` from the aggregates and the case
table; ``dashboard.domain.report_text`` turns it into words; the DOCX and PDF writers lay the same
values out. Every figure is held once here, so the prose, the tables and both formats cannot
disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from dashboard.domain.figures import InstantCounts, PeriodCounts
from dashboard.domain.periods import Period
from dashboard.domain.report_periods import ReportKind

MAX_TABLE_ROWS = 40
"""The alert and overdue tables list at most this many rows; the total is always stated."""


@dataclass(frozen=True)
class LeagueRow:
    """A township of the league: its period counts and its open cases at the period's end."""

    code: str
    name: str
    counts: PeriodCounts
    overdue: int
    red: int


@dataclass(frozen=True)
class AlertLine:
    """A red or orange case received in the period: where, what kind, how many people, why."""

    received: date
    level: str
    township: str
    village: str
    category: str
    people: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class OverdueLine:
    """A case open and past its deadline at the period's end: place, kind, tier, days late."""

    township: str
    village: str
    category: str
    tier: str
    level: str
    days_over: int


@dataclass(frozen=True)
class WarningNote:
    """An early warning of the period, as its reason in words and numbers."""

    text: str


@dataclass(frozen=True)
class ReportContent:
    county_code: str
    county_name: str
    area_code: str
    area_name: str
    kind: ReportKind
    period: Period
    period_name: str
    issue: int
    lang: str
    compiled_at: datetime
    instant_at: datetime
    """The instant open and overdue are counted at: the period's end, or now if it has not ended."""
    current: PeriodCounts
    previous: PeriodCounts
    last_year: PeriodCounts
    instant: InstantCounts
    instant_previous: InstantCounts
    instant_last_year: InstantCounts
    categories: dict[str, int]
    sources: dict[str, int]
    trend: list[tuple[date, PeriodCounts]]
    league: list[LeagueRow]
    alerts: list[AlertLine]
    alerts_total: int
    red_new: int
    orange_new: int
    overdue_cases: list[OverdueLine]
    overdue_total: int
    warnings: list[WarningNote] = field(default_factory=list)
    generated_geometry: bool = True
    """Township outlines are generated (no official polygons): the map says so."""
