"""Bulk insert of new cases and their events for imports: COPY on PostgreSQL, executemany on SQLite.

An import writes tens of thousands of cases with about six events each; streaming them as rows
avoids the ORM session's per-object bookkeeping and statement round trips. These functions run
inside the caller's session and never commit, so an import stays one transaction that lands
completely or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from data_access.models import Case, CaseEvent, UTCDateTime

CASE_COLUMNS: tuple[str, ...] = tuple(c.name for c in Case.__table__.columns if c.name != "id")
"""Order of the values in a case row handed to :func:`insert_cases` (every column but ``id``)."""

EVENT_COLUMNS: tuple[str, ...] = ("at", "actor", "action", "from_status", "to_status", "note")
"""Order of the values in an event row after its leading case index."""

CaseValues = Sequence[Any]
"""One case: values in ``CASE_COLUMNS`` order; datetimes aware (any offset)."""

EventValues = Sequence[Any]
"""One event: ``(case_index, *EVENT_COLUMNS)``; ``case_index`` points into the case list."""

_CASE_TIMES = tuple(i for i, name in enumerate(CASE_COLUMNS) if isinstance(Case.__table__.c[name].type, UTCDateTime))
_REF_CHUNK = 2000
"""Refs per lookup query: well under SQLite's bound-parameter limit."""


def _naive_utc(value: datetime | None) -> datetime | None:
    """``UTCDateTime``'s conversion, inlined: it runs ~6 times per case and the call chain doubled its cost."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).replace(tzinfo=None)


def existing_refs(session: Session, refs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which ``(source, external_ref)`` pairs are already stored: an import skips them, never doubles them."""
    by_source: dict[str, list[str]] = {}
    for source, ref in refs:
        by_source.setdefault(source, []).append(ref)
    found: set[tuple[str, str]] = set()
    for source, wanted in by_source.items():
        for start in range(0, len(wanted), _REF_CHUNK):
            chunk = wanted[start : start + _REF_CHUNK]
            stmt = select(Case.external_ref).where(Case.source == source, Case.external_ref.in_(chunk))
            found.update((source, ref) for ref in session.scalars(stmt))
    return found


def insert_cases(session: Session, cases: Sequence[CaseValues], events: Sequence[EventValues]) -> list[int]:
    """Insert ``cases`` and ``events`` in the caller's transaction; returns the new case ids in order.

    Ids are allocated before writing because events refer to their case and Redis is keyed by id.
    """
    if not cases:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _insert_postgresql(session, cases, events)
    return _insert_generic(session, cases, events)


def _case_row(case_id: int, values: CaseValues) -> list[Any]:
    row = [case_id, *values]
    for i in _CASE_TIMES:
        row[i + 1] = _naive_utc(row[i + 1])
    return row


def _event_row(ids: Sequence[int], values: EventValues) -> tuple[Any, ...]:
    return (ids[values[0]], _naive_utc(values[1]), *values[2:])


def _insert_postgresql(session: Session, cases: Sequence[CaseValues], events: Sequence[EventValues]) -> list[int]:
    """Binary COPY through the session's own psycopg connection, so it shares the caller's transaction.

    ``nextval`` over ``generate_series`` reserves every id in one round trip; events keep their
    column default, so the server numbers them while copying. Column types for the binary format
    are read from the table itself. Constraint violations surface as SQLAlchemy's
    ``IntegrityError`` as they would on SQLite.
    """
    connection = session.connection()
    ids = [
        int(i)
        for i in connection.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence('\"case\"', 'id')) FROM generate_series(1, %(n)s)",
            {"n": len(cases)},
        ).scalars()
    ]
    raw = connection.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    case_target = _target("case", ("id", *CASE_COLUMNS))
    event_target = _target("case_event", ("case_id", *EVENT_COLUMNS))
    try:
        with raw.cursor() as cursor:
            case_types = _column_types(cursor, "case", ("id", *CASE_COLUMNS))
            event_types = _column_types(cursor, "case_event", ("case_id", *EVENT_COLUMNS))
            with cursor.copy(f"COPY {case_target} FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(case_types)
                for case_id, values in zip(ids, cases, strict=True):
                    copy.write_row(_case_row(case_id, values))
            with cursor.copy(f"COPY {event_target} FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(event_types)
                for values in events:
                    copy.write_row(_event_row(ids, values))
    except psycopg.errors.IntegrityError as error:
        raise IntegrityError("COPY case/case_event", None, error) from error
    return ids


def _quoted(columns: Sequence[str]) -> str:
    return ", ".join('"' + name + '"' for name in columns)


def _target(table: str, columns: Sequence[str]) -> str:
    return f'"{table}" ({_quoted(columns)})'


def _column_types(cursor: psycopg.Cursor[Any], table: str, columns: Sequence[str]) -> list[int]:
    """Type oids of the target columns, read from the table: the binary COPY format needs them."""
    cursor.execute(f'SELECT {_quoted(columns)} FROM "{table}" LIMIT 0')
    assert cursor.description is not None
    return [column.type_code for column in cursor.description]


def _insert_generic(session: Session, cases: Sequence[CaseValues], events: Sequence[EventValues]) -> list[int]:
    """executemany with explicit ids (max + 1 …) for SQLite, which has no sequences to reserve from.

    A concurrent writer taking one of those ids makes the insert fail (primary key) rather than mix
    rows. Core ``insert()`` applies the UTC column type itself, so values go in as given.
    """
    first = (session.scalar(select(func.max(Case.id))) or 0) + 1
    ids = list(range(first, first + len(cases)))
    session.execute(
        insert(Case.__table__),
        [{"id": case_id, **dict(zip(CASE_COLUMNS, values, strict=True))} for case_id, values in zip(ids, cases, strict=True)],
    )
    if events:
        session.execute(
            insert(CaseEvent.__table__),
            [{"case_id": ids[values[0]], **dict(zip(EVENT_COLUMNS, values[1:], strict=True))} for values in events],
        )
    return ids
