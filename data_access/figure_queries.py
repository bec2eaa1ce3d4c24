"""The figures of DESIGN.md as plain SQL over the case table: the truth every cache must equal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from dashboard.domain.figures import InstantCounts, PeriodCounts
from data_access.models import Case

AREA_COLUMNS = {
    "county": Case.county_code,
    "township": Case.township_code,
    "village": Case.village_code,
    "grid": Case.grid_code,
}

_closed = Case.resolved_at.is_not(None)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def period_columns() -> dict[str, ColumnElement[Any]]:
    """One SQL aggregate per figure field, named like ``PeriodCounts``'s fields."""
    return {
        "received": func.count(Case.id),
        "closed": _count_if(_closed),
        "closed_on_time": _count_if(and_(_closed, Case.resolved_at <= Case.due_at)),
        "closed_village": _count_if(and_(_closed, Case.resolved_tier == "village")),
        "closed_township": _count_if(and_(_closed, Case.resolved_tier == "township")),
        "closed_county": _count_if(and_(_closed, Case.resolved_tier == "county")),
        "followed_up": _count_if(Case.satisfaction.is_not(None)),
        "satisfied": _count_if(Case.satisfaction == "satisfied"),
    }


def period_counts(
    session: Session, *, county_code: str, start: datetime, end: datetime, area: tuple[str, str] | None = None
) -> PeriodCounts:
    """Cases received in ``[start, end)`` and what became of them by now."""
    columns = period_columns()
    stmt = select(*(col.label(name) for name, col in columns.items())).where(
        Case.county_code == county_code, Case.received_at >= start, Case.received_at < end
    )
    if area is not None:
        stmt = stmt.where(AREA_COLUMNS[area[0]] == area[1])
    row = session.execute(stmt).one()
    return PeriodCounts(**{name: int(row._mapping[name]) for name in columns})


def instant_counts(
    session: Session, *, county_code: str, now: datetime, area: tuple[str, str] | None = None
) -> InstantCounts:
    """Open, overdue and red-alert cases at ``now`` (red depends on facts only, not the clock)."""
    stmt = select(
        func.count(Case.id),
        _count_if(Case.due_at < now),
        _count_if(Case.alert_level == "red"),
    ).where(Case.county_code == county_code, Case.resolved_at.is_(None))
    if area is not None:
        stmt = stmt.where(AREA_COLUMNS[area[0]] == area[1])
    opened, overdue, red = session.execute(stmt).one()
    return InstantCounts(open=int(opened), overdue=int(overdue), red=int(red))


def local_day_expression(session: Session) -> ColumnElement[Any]:
    """Asia/Shanghai calendar day of receipt, as YYYYMMDD (UTC+8; China has had no DST since 1991)."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%Y%m%d", Case.received_at, "+8 hours"), Integer)
    return cast(func.to_char(Case.received_at + literal_column("interval '8 hours'"), "YYYYMMDD"), Integer)


def daily_counts_by_area(
    session: Session, *, county_code: str, level: str
) -> dict[tuple[str, str], PeriodCounts]:
    """Per (receipt day, area) counts for every day that has cases; used by ``cache reconcile``."""
    day = local_day_expression(session).label("day")
    area = AREA_COLUMNS[level].label("area")
    columns = period_columns()
    stmt = (
        select(day, area, *(col.label(name) for name, col in columns.items()))
        .where(Case.county_code == county_code)
        .group_by(day, area)
    )
    out: dict[tuple[str, str], PeriodCounts] = {}
    for row in session.execute(stmt):
        values = row._mapping
        out[(str(values["day"]), values["area"])] = PeriodCounts(**{n: int(values[n]) for n in columns})
    return out


def breakdown_by_day(
    session: Session, *, county_code: str, level: str, field: str
) -> dict[tuple[str, str, str], int]:
    """Received per (day, area, category|source) at township/county level; for reconcile."""
    day = local_day_expression(session).label("day")
    area = AREA_COLUMNS[level]
    column = getattr(Case, field)
    stmt = (
        select(day, area, column, func.count(Case.id))
        .where(Case.county_code == county_code)
        .group_by(day, area, column)
    )
    return {(str(d), a, v): int(n) for d, a, v, n in session.execute(stmt)}
