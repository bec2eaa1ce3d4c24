"""SQL behind a written report: what was open and overdue at an instant, the period's red and
orange cases, and the cases overdue at the period's end. Places, categories and levels only: no
query here selects a name, a phone, an ID number, an address or a description."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from dashboard.domain.figures import InstantCounts
from dashboard.domain.rules import Rules
from data_access.figure_queries import AREA_COLUMNS
from data_access.models import AreaWarning, Case


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _open_at(at: datetime) -> ColumnElement[bool]:
    """Received before ``at`` and not resolved by then (a case reopened later counts as it is now)."""
    return and_(Case.received_at < at, or_(Case.resolved_at.is_(None), Case.resolved_at >= at))


def red_by_facts(rules: Rules) -> ColumnElement[bool]:
    """Red comes only from a case's facts (DESIGN.md "Alert levels"), so it can be asked of the past."""
    return or_(Case.people_involved >= rules.red_people, Case.risk_extreme, Case.risk_mass_incident,
               Case.beyond_county_petition)


def orange_by_facts(rules: Rules) -> ColumnElement[bool]:
    return and_(~red_by_facts(rules), or_(Case.people_involved >= rules.orange_people, Case.repeat_petition))


def _area(county: str, area: tuple[str, str] | None) -> list[ColumnElement[bool]]:
    where = [Case.county_code == county]
    if area is not None:
        where.append(AREA_COLUMNS[area[0]] == area[1])
    return where


def instant_counts_at(session: Session, *, county: str, at: datetime, rules: Rules,
                      area: tuple[str, str] | None = None) -> InstantCounts:
    """Open, overdue (past the current deadline) and red cases at ``at``; equal to
    ``figure_queries.instant_counts`` when ``at`` is now."""
    stmt = select(func.count(Case.id), _count_if(Case.due_at < at), _count_if(red_by_facts(rules))).where(
        *_area(county, area), _open_at(at))
    opened, overdue, red = session.execute(stmt).one()
    return InstantCounts(open=int(opened), overdue=int(overdue), red=int(red))


def township_instants_at(session: Session, *, county: str, at: datetime, rules: Rules) -> dict[str, InstantCounts]:
    stmt = (select(Case.township_code, func.count(Case.id), _count_if(Case.due_at < at), _count_if(red_by_facts(rules)))
            .where(Case.county_code == county, _open_at(at)).group_by(Case.township_code))
    return {code: InstantCounts(int(o), int(d), int(r)) for code, o, d, r in session.execute(stmt)}


@dataclass(frozen=True)
class PeriodAlert:
    received_at: datetime
    township_code: str
    village_code: str
    category: str
    people_involved: int
    risk_extreme: bool
    risk_mass_incident: bool
    beyond_county_petition: bool
    repeat_petition: bool
    escalated: bool


def period_alerts(session: Session, *, county: str, start: datetime, end: datetime, rules: Rules,
                  area: tuple[str, str] | None = None, limit: int = 40) -> tuple[int, int, list[PeriodAlert]]:
    """Red count, orange count, and the first ``limit`` red-then-orange cases received in ``[start, end)``."""
    where = [*_area(county, area), Case.received_at >= start, Case.received_at < end]
    red, orange = red_by_facts(rules), orange_by_facts(rules)
    n_red, n_orange = session.execute(select(_count_if(red), _count_if(orange)).where(*where)).one()
    stmt = (select(Case.received_at, Case.township_code, Case.village_code, Case.category, Case.people_involved,
                   Case.risk_extreme, Case.risk_mass_incident, Case.beyond_county_petition, Case.repeat_petition,
                   Case.escalated)
            .where(*where, or_(red, orange))
            .order_by(red.desc(), Case.received_at, Case.id).limit(limit))
    return int(n_red), int(n_orange), [PeriodAlert(*row) for row in session.execute(stmt)]


@dataclass(frozen=True)
class OverdueCase:
    township_code: str
    village_code: str
    category: str
    tier: str
    due_at: datetime
    people_involved: int
    risk_extreme: bool
    risk_mass_incident: bool
    beyond_county_petition: bool
    repeat_petition: bool
    escalated: bool


def overdue_at(session: Session, *, county: str, at: datetime, area: tuple[str, str] | None = None,
               limit: int = 40) -> tuple[int, list[OverdueCase]]:
    """Cases open and past their deadline at ``at``, longest overdue first (total and the first ``limit``)."""
    where = [*_area(county, area), _open_at(at), Case.due_at < at]
    total = session.scalar(select(func.count(Case.id)).where(*where)) or 0
    stmt = (select(Case.township_code, Case.village_code, Case.category, Case.tier, Case.due_at, Case.people_involved,
                   Case.risk_extreme, Case.risk_mass_incident, Case.beyond_county_petition, Case.repeat_petition,
                   Case.escalated)
            .where(*where).order_by(Case.due_at, Case.id).limit(limit))
    return int(total), [OverdueCase(*row) for row in session.execute(stmt)]


def period_warnings(session: Session, *, county: str, start: datetime, end: datetime, area: str | None = None,
                    limit: int = 20) -> list[tuple[datetime, str, str]]:
    """Early warnings (``area_warning``) open at any time in ``[start, end)``, inside ``area`` (a
    code prefix) when given, most improbable first: (first seen, reason in Chinese, in English)."""
    stmt = (select(AreaWarning.first_seen, AreaWarning.reason_zh, AreaWarning.reason_en)
            .where(AreaWarning.county_code == county, AreaWarning.first_seen < end,
                   or_(AreaWarning.cleared_at.is_(None), AreaWarning.cleared_at >= start))
            .order_by(AreaWarning.p_value, AreaWarning.first_seen, AreaWarning.id).limit(limit))
    if area is not None:
        stmt = stmt.where(AreaWarning.area_code.startswith(area))
    return [(at, zh, en) for at, zh, en in session.execute(stmt)]
