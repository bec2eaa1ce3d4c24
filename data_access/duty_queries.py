"""Reads and writes behind the duty console: the alert queue, a case's timeline, the places a
case can be assigned to, and the shift handover notes.

The console's reads come back as ``dashboard.domain.duty_console`` values, so the service hands
them to the screen as they are."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case as sql_case
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from dashboard.domain.duty_console import Assignee, HandoverNote, QueueRow
from data_access.models import Case, CaseEvent, Center, Department, Township, Village
from data_access.models import HandoverNote as HandoverNoteRecord

LEVEL_ORDER = sql_case({"red": 0, "orange": 1, "yellow": 2, "blue": 3}, value=Case.alert_level, else_=4)

_QUEUE_COLUMNS = (Case.id, Case.alert_level.label("level"), Case.alert_reasons.label("reasons"), Case.received_at,
                  Case.due_at, Case.status, Case.tier, Case.category, Case.people_involved,
                  Township.name.label("township"), Village.name.label("village"), Case.supervised,
                  Case.acknowledged_at, Case.acknowledged_by)
"""The queue's columns, each labelled with the ``QueueRow`` field it fills."""


def _queue_filter(county: str, levels: Sequence[str], unacknowledged_only: bool) -> list[ColumnElement[bool]]:
    where = [Case.county_code == county, Case.resolved_at.is_(None), Case.alert_level.in_(list(levels))]
    if unacknowledged_only:
        where.append(Case.acknowledged_at.is_(None))
    return where


def alert_queue(session: Session, county: str, *, levels: Sequence[str], unacknowledged_only: bool = False,
                limit: int = 200) -> list[QueueRow]:
    """Open cases at the given levels: highest level first, then the oldest (longest waiting)."""
    stmt = (
        select(*_QUEUE_COLUMNS)
        .join(Township, Township.code == Case.township_code)
        .join(Village, Village.code == Case.village_code)
        .where(*_queue_filter(county, levels, unacknowledged_only))
        .order_by(LEVEL_ORDER, Case.received_at, Case.id)
        .limit(limit)
    )
    return [QueueRow(**row._mapping) for row in session.execute(stmt)]


def count_alerts(session: Session, county: str, *, levels: Sequence[str], unacknowledged_only: bool = False) -> int:
    """How many cases the whole queue holds, when only its head is shown."""
    return session.scalar(select(func.count()).select_from(Case).where(
        *_queue_filter(county, levels, unacknowledged_only))) or 0


def open_red_ids(session: Session, county: str) -> list[int]:
    """Every open red case: the console flashes and sounds when a new one appears."""
    return list(session.scalars(select(Case.id).where(
        Case.county_code == county, Case.resolved_at.is_(None), Case.alert_level == "red").order_by(Case.id)))


def timeline(session: Session, case_id: int) -> Sequence[CaseEvent]:
    return session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.at, CaseEvent.id)).all()


def assignees(session: Session, county: str, *, township: str, village: str) -> list[Assignee]:
    """The case's own village and township centres, the county centre, and the county centre's
    stationed departments: the places a duty officer sends a case."""
    centers = session.scalars(
        select(Center).where(Center.county_code == county,
                             or_(Center.tier == "county", Center.area_code.in_([township, village])))
        .order_by(sql_case({"village": 0, "township": 1, "county": 2}, value=Center.tier), Center.id)
    ).all()
    out = [Assignee(c.id, None, c.name, c.tier) for c in centers]
    county_ids = [c.id for c in centers if c.tier == "county"]
    if county_ids:
        for dept, center_name in session.execute(
            select(Department, Center.name).join(Center, Center.id == Department.center_id)
            .where(Department.center_id.in_(county_ids)).order_by(Department.id)
        ):
            out.append(Assignee(dept.center_id, dept.id, f"{center_name} · {dept.name}", "department"))
    return out


def place_names(session: Session, center_id: int | None, department_id: int | None) -> tuple[str | None, str | None]:
    center = session.get(Center, center_id) if center_id else None
    department = session.get(Department, department_id) if department_id else None
    return (center.name if center else None, department.name if department else None)


def add_handover_note(session: Session, *, county: str, author: str, at: datetime, text: str) -> int:
    """Store one handover note; returns its id, for the audit entry written in the same transaction."""
    note = HandoverNoteRecord(county_code=county, author=author, at=at, text=text)
    session.add(note)
    session.flush()
    return note.id


def handover_notes(session: Session, county: str, *, limit: int = 10) -> list[HandoverNote]:
    """The county's newest ``limit`` handover notes, newest first."""
    stmt = (select(HandoverNoteRecord.author, HandoverNoteRecord.at, HandoverNoteRecord.text)
            .where(HandoverNoteRecord.county_code == county)
            .order_by(HandoverNoteRecord.at.desc(), HandoverNoteRecord.id.desc()).limit(limit))
    return [HandoverNote(**row._mapping) for row in session.execute(stmt)]
