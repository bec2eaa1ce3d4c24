"""Case and event queries. Functions flush but never commit: the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data_access.models import Case, CaseEvent


def get(session: Session, case_id: int, *, for_update: bool = False) -> Case | None:
    stmt = select(Case).where(Case.id == case_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def get_by_source_ref(session: Session, source: str, external_ref: str) -> Case | None:
    return session.scalars(select(Case).where(Case.source == source, Case.external_ref == external_ref)).first()


def add(session: Session, case: Case, event: CaseEvent) -> Case:
    session.add(case)
    session.flush()
    event.case_id = case.id
    session.add(event)
    session.flush()
    return case


def add_event(session: Session, event: CaseEvent) -> CaseEvent:
    session.add(event)
    session.flush()
    return event


def open_cases(session: Session, county_code: str) -> Sequence[Case]:
    return session.scalars(
        select(Case).where(Case.county_code == county_code, Case.resolved_at.is_(None)).order_by(Case.id)
    ).all()


def count(session: Session, county_code: str) -> int:
    return session.scalar(select(func.count(Case.id)).where(Case.county_code == county_code)) or 0


def last_event_at(session: Session) -> datetime | None:
    return session.scalar(select(func.max(CaseEvent.at)))


def find(
    session: Session, county_code: str, *, ids: Sequence[int] = (), categories: Sequence[str] = (),
    closed: bool | None = None, start: datetime | None = None, end: datetime | None = None, limit: int = 1000,
) -> Sequence[Case]:
    """Cases of a county, newest first; ``ids`` overrides every other filter (Open311's rule)."""
    stmt = select(Case).where(Case.county_code == county_code)
    if ids:
        stmt = stmt.where(Case.id.in_(ids))
    else:
        if categories:
            stmt = stmt.where(Case.category.in_(categories))
        if closed is not None:
            stmt = stmt.where(Case.resolved_at.is_not(None) if closed else Case.resolved_at.is_(None))
        if start is not None:
            stmt = stmt.where(Case.received_at >= start)
        if end is not None:
            stmt = stmt.where(Case.received_at <= end)
    return session.scalars(stmt.order_by(Case.received_at.desc(), Case.id.desc()).limit(limit)).all()
