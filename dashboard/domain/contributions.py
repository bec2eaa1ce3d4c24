"""What one case adds to the cached aggregates, as a pure function of its row.

A contribution is small and fixed-size: the local day, the four areas, category, source, one bit
per period figure and, for an open case, its deadline and fact-based alert reasons. The cache keeps
a 12-byte packed record of the last contribution applied per case, so applying a case means
applying the difference between the new and the stored contribution: applying the same state
twice changes nothing, and a lost update is repaired by the next one.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from dashboard.domain.alerts import CaseFacts, fact_reasons
from dashboard.domain.figures import PeriodCounts
from dashboard.domain.periods import day_key, local_date
from dashboard.domain.rules import Rules
from dashboard.domain.vocabulary import AlertLevel, Category, Source

BREAKDOWN_LEVELS = ("county", "township")
"""Category and source breakdowns are kept only for these areas: grids would multiply keys."""

FIGURES: tuple[str, ...] = tuple(f.name for f in fields(PeriodCounts))
"""Period figures in slot order; bit ``i`` of ``Contribution.flags`` is ``FIGURES[i]``."""

CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)
SOURCES: tuple[str, ...] = tuple(s.value for s in Source)
BREAKDOWNS: tuple[str, ...] = tuple(f"category.{c}" for c in CATEGORIES) + tuple(f"source.{s}" for s in SOURCES)
"""Breakdown counter names in slot order (county and township only)."""

FACT_CODES: tuple[tuple[AlertLevel, str], ...] = (
    (AlertLevel.red, "people_red"),
    (AlertLevel.red, "risk_extreme"),
    (AlertLevel.red, "risk_mass_incident"),
    (AlertLevel.red, "beyond_county_petition"),
    (AlertLevel.orange, "people_orange"),
    (AlertLevel.orange, "repeat_petition"),
    (AlertLevel.yellow, "escalated"),
)
"""Every fact reason ``alerts.fact_reasons`` can give, in its order; bit ``i`` of a reason mask is
``FACT_CODES[i]`` (a test holds the two lists equal)."""

OPEN_SLOTS: tuple[str, ...] = ("open", "red", *(code for _, code in FACT_CODES))
"""Per-area open-case counters: open cases, red (fact) cases, and cases carrying each fact reason."""

EPOCH_DAY = date(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_us(moment: datetime) -> int:
    """Exact microseconds since 1970 (a float epoch would round at deadline boundaries)."""
    return (moment.astimezone(UTC) - _EPOCH) // _MICROSECOND


@lru_cache(maxsize=8192)
def day_number(day: str) -> int:
    """``YYYYMMDD`` → days since 1970-01-01 (what the packed record stores)."""
    return (date(int(day[:4]), int(day[4:6]), int(day[6:])) - EPOCH_DAY).days


@lru_cache(maxsize=8192)
def day_from_number(number: int) -> str:
    return day_key(EPOCH_DAY + timedelta(days=number))


class CaseRow(Protocol):
    id: int
    status: str
    county_code: str
    township_code: str
    village_code: str
    grid_code: str
    category: str
    source: str
    received_at: datetime
    due_at: datetime
    resolved_at: datetime | None
    resolved_tier: str | None
    satisfaction: str | None
    people_involved: int
    risk_extreme: bool
    risk_mass_incident: bool
    beyond_county_petition: bool
    repeat_petition: bool
    escalated: bool


def case_facts(row: CaseRow) -> CaseFacts:
    return CaseFacts(
        people_involved=row.people_involved,
        risk_extreme=row.risk_extreme,
        risk_mass_incident=row.risk_mass_incident,
        beyond_county_petition=row.beyond_county_petition,
        repeat_petition=row.repeat_petition,
        escalated=row.escalated,
        due_at=row.due_at,
        closed=row.resolved_at is not None,
        awaiting_assessment=row.status == "received",
    )


def reason_mask(reasons: tuple[tuple[AlertLevel, str], ...]) -> int:
    codes = {code for _, code in reasons}
    return sum(1 << i for i, (_, code) in enumerate(FACT_CODES) if code in codes)


def reasons_from_mask(mask: int) -> tuple[tuple[AlertLevel, str], ...]:
    return tuple(item for i, item in enumerate(FACT_CODES) if mask >> i & 1)


@dataclass(frozen=True)
class OpenEntry:
    """An open case as the live screens need it: where, deadline, and its fact-based reasons."""

    areas: tuple[str, str, str, str]
    due_us: int
    """Deadline in exact microseconds since 1970 (sorted-set score: overdue is a ``ZCOUNT``)."""
    reasons: tuple[tuple[AlertLevel, str], ...]
    warn_early: bool = True

    @property
    def mask(self) -> int:
        return reason_mask(self.reasons)

    @property
    def red(self) -> bool:
        return any(level is AlertLevel.red for level, _ in self.reasons)


@dataclass(frozen=True)
class Contribution:
    day: str
    """Local receipt day, ``YYYYMMDD``."""
    areas: tuple[str, str, str, str]
    """County, township, village, grid."""
    category: str
    source: str
    flags: int
    """Bit ``i`` set when the case counts for ``FIGURES[i]`` (bit 0, received, always)."""
    open: OpenEntry | None


_RECEIVED, _CLOSED, _ON_TIME, _FOLLOWED_UP, _SATISFIED = (
    1 << FIGURES.index(name) for name in ("received", "closed", "closed_on_time", "followed_up", "satisfied"))
_CLOSED_AT = {tier: 1 << FIGURES.index(f"closed_{tier}") for tier in ("village", "township", "county")}


def figure_bits(row: CaseRow) -> int:
    """Bit ``FIGURES.index(name)`` set for each period figure the case counts for (DESIGN.md "Figures")."""
    return figure_flags(row.resolved_at, row.resolved_tier, row.due_at, row.satisfaction)


def figure_flags(resolved_at: datetime | None, resolved_tier: str | None, due_at: datetime,
                 satisfaction: str | None) -> int:
    """``figure_bits`` from the four columns it reads, for an import that holds no row object.

    Received always; closed, and closed on time and at which tier, once resolved; followed up and
    satisfied once a follow-up recorded satisfaction. Plain bit operations: an import computes it
    for every case.
    """
    bits = _RECEIVED
    if resolved_at is not None:
        bits |= _CLOSED | _CLOSED_AT.get(resolved_tier or "", 0)
        if resolved_at <= due_at:
            bits |= _ON_TIME
    if satisfaction is not None:
        bits |= _FOLLOWED_UP
        if satisfaction == "satisfied":
            bits |= _SATISFIED
    return bits


def contribution(row: CaseRow, rules: Rules) -> Contribution:
    areas = (row.county_code, row.township_code, row.village_code, row.grid_code)
    flags = figure_bits(row)
    entry = None
    if row.resolved_at is None:
        facts = case_facts(row)
        entry = OpenEntry(areas, epoch_us(row.due_at), tuple(fact_reasons(facts, rules)),
                          not facts.awaiting_assessment)
    return Contribution(day_key(local_date(row.received_at)), areas, row.category, row.source, flags, entry)
