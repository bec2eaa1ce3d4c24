"""Bulk insert of new cases and their events for imports: COPY on PostgreSQL, executemany on SQLite.

An import writes tens of thousands of cases, each with its import event; sending them as rows
avoids the ORM session's per-object bookkeeping and statement round trips. These functions run
inside the caller's session and never commit, so an import stays one transaction that lands
completely or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

import numpy as np
import psycopg
from sqlalchemy import BigInteger, Boolean, Column, Float, Integer, Table, func, insert, select
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

_REF_CHUNK = 2000
"""Refs per lookup query: well under SQLite's bound-parameter limit."""


def existing_refs(session: Session, refs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which ``(source, external_ref)`` pairs are already stored: an import skips them, never doubles them."""
    by_source: dict[str, list[str]] = {}
    for source, ref in refs:
        by_source.setdefault(source, []).append(ref)
    found: set[tuple[str, str]] = set()
    if session.get_bind().dialect.name == "postgresql":
        # One array parameter per source: 25 queries of 2,000 bound refs took 1.6 s for 50 k refs,
        # this 0.2 s; sent in binary (``%b``), psycopg builds the array at half the cost of its text.
        connection = session.connection()
        for source, wanted in by_source.items():
            result = connection.exec_driver_sql(
                'SELECT external_ref FROM "case" WHERE source = %(source)s AND external_ref = ANY(%(refs)b)',
                {"source": source, "refs": wanted})
            found.update((source, ref) for ref in result.scalars())
        return found
    for source, wanted in by_source.items():
        for start in range(0, len(wanted), _REF_CHUNK):
            chunk = wanted[start : start + _REF_CHUNK]
            stmt = select(Case.external_ref).where(Case.source == source, Case.external_ref.in_(chunk))
            found.update((source, ref) for ref in session.scalars(stmt))
    return found


def reserve_ids(session: Session, n: int) -> list[int]:
    """Ids for ``n`` new cases, in the caller's transaction, handed to :func:`insert_cases`.

    Reserving them first lets an import prepare its Redis records while the COPY runs. On
    PostgreSQL ``nextval`` over ``generate_series`` takes them in one round trip (a failed import
    leaves a gap, as sequences do); SQLite has no sequences, so they continue from the largest id
    and a concurrent writer taking one of them makes the insert fail rather than mix rows.
    """
    if n <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        connection = session.connection()
        sequence = connection.exec_driver_sql("SELECT pg_get_serial_sequence('\"case\"', 'id')").scalar_one()
        # The sequence named once, not per row, and the ids as one array: 0.38 s → 0.03 s for 50 k.
        ids = connection.exec_driver_sql("SELECT array_agg(nextval(%(sequence)s::regclass)) FROM generate_series(1, %(n)s)",
                                         {"sequence": sequence, "n": n}).scalar_one()
        return sorted(map(int, ids))
    first = (session.scalar(select(func.max(Case.id))) or 0) + 1
    return list(range(first, first + n))


@dataclass(frozen=True)
class Batch:
    """Cases with their reserved ids and their events; an event's leading value indexes ``cases``."""

    ids: Sequence[int]
    cases: Sequence[CaseValues]
    events: Sequence[EventValues]


@dataclass(frozen=True)
class Copy:
    """Rows of one table as COPY text, and the columns they hold, in their order."""

    columns: tuple[str, ...]
    text: bytes


@dataclass(frozen=True)
class Rendered:
    """A batch as COPY text, ready to send."""

    count: int
    cases: Copy
    events: Copy | None


def render(batch: Batch, columns: Sequence[str]) -> Rendered:
    """``batch`` as the COPY text of its cases (with their ids) and of its events."""
    columns = tuple(columns)
    if not batch.cases:
        return Rendered(0, Copy((), b""), None)
    values = _columns(batch.cases, len(columns))
    cases = _copy(_CASE_TABLE, ("id", *columns), [list(batch.ids[: len(batch.cases)]), *values])
    events = None
    if batch.events:
        event_values = _columns(batch.events, 1 + len(EVENT_COLUMNS))
        event_values[0] = list(map(batch.ids.__getitem__, event_values[0]))
        events = _copy(_EVENT_TABLE, ("case_id", *EVENT_COLUMNS), event_values)
    return Rendered(len(batch.cases), cases, events)


def insert_cases(session: Session, cases: Sequence[CaseValues], events: Sequence[EventValues],
                 columns: Sequence[str] = CASE_COLUMNS, ids: Sequence[int] | None = None) -> list[int]:
    """Insert ``cases`` and ``events`` in the caller's transaction; returns the new case ids in order.

    ``columns`` names the case values (a subset of ``CASE_COLUMNS``); the rest take their column
    default. ``ids`` come from :func:`reserve_ids` (reserved here when not given): events refer to
    their case and Redis is keyed by id.
    """
    if not cases:
        return []
    ids = list(ids) if ids is not None else reserve_ids(session, len(cases))
    if len(ids) < len(cases):
        raise ValueError(f"{len(cases)} cases but {len(ids)} ids")
    ids = ids[: len(cases)]
    insert_batches(session, _slices(ids, cases, events), columns)
    return ids


def _slices(ids: Sequence[int], cases: Sequence[CaseValues], events: Sequence[EventValues]) -> Iterator[Batch]:
    """Batches of ``_COPY_CHUNK`` cases, each with its own events, rendered one by one as the COPY asks:
    the server parses one while the next is formatted."""
    for start in range(0, len(cases), _COPY_CHUNK):
        stop = start + _COPY_CHUNK
        yield Batch(ids[start:stop], cases[start:stop],
                    [(event[0] - start, *event[1:]) for event in events if start <= event[0] < stop])


def insert_batches(session: Session, batches: Iterable[Batch], columns: Sequence[str]) -> int:
    """Insert cases that arrive in batches, in the caller's transaction; returns how many.

    On PostgreSQL each batch goes in two COPYs, its cases then its events, as ``batches`` yields
    them, so the server stores one batch while the next is formatted. Every row is checked by the
    server as any insert is (unique keys, foreign keys, triggers); a violation raises
    ``IntegrityError`` on both databases.
    """
    columns = tuple(columns)
    if unknown := set(columns) - set(CASE_COLUMNS):
        raise ValueError(f"not case columns: {', '.join(sorted(unknown))}")
    if session.get_bind().dialect.name == "postgresql":
        return _insert_postgresql(session, batches, columns)
    return sum(_insert_generic(session, batch, columns) for batch in batches)


def _insert_postgresql(session: Session, batches: Iterable[Batch], columns: tuple[str, ...]) -> int:
    """Text COPY through the session's own psycopg connection, so it shares the caller's transaction.

    COPY rather than ``executemany``, because a year of a county's history must import within
    5 s and ``executemany`` alone takes a third of that (docs/benchmarks.md). Events keep their
    column default, so the server numbers them while copying.
    """
    raw = session.connection().connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    count = 0
    try:
        with raw.cursor() as cursor:
            for batch in batches:
                rendered = render(batch, columns)
                if not rendered.count:
                    continue
                for table, rows in (("case", rendered.cases), ("case_event", rendered.events)):
                    if rows is not None:
                        with cursor.copy(f"COPY {_target(table, rows.columns)} FROM STDIN") as copy:
                            copy.write(rows.text)
                count += rendered.count
    except psycopg.errors.IntegrityError as error:
        raise IntegrityError("COPY case/case_event", None, error) from error
    return count


def _quoted(columns: Sequence[str]) -> str:
    return ", ".join('"' + name + '"' for name in columns)


def _target(table: str, columns: Sequence[str]) -> str:
    return f'"{table}" ({_quoted(columns)})'


def _kind(column: Column[Any]) -> str:
    """How a column's values are spelled in COPY text."""
    if isinstance(column.type, UTCDateTime):
        return "time"
    if isinstance(column.type, Boolean):
        return "bool"
    if isinstance(column.type, Integer | BigInteger):
        return "int"
    if isinstance(column.type, Float):
        return "float"
    return "text"


_CASE_TABLE, _EVENT_TABLE = Case.__table__, CaseEvent.__table__
_COPY_CHUNK = 20_000
_NULL = "\\N"
_SPECIAL = ("\\", "\t", "\n", "\r")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows to columns; ``zip(*rows)`` over 300 k event rows took 0.5 s, one ``itemgetter`` pass a column 0.05 s."""
    if rows and set(map(len, rows)) != {width}:
        raise ValueError(f"every row needs {width} values")
    return [list(map(itemgetter(i), rows)) for i in range(width)]


def _copy(table: Table, names: Sequence[str], values: Sequence[Sequence[Any]]) -> Copy:
    """Rows of ``table`` from values given column by column, in PostgreSQL's COPY text format.

    Columns that vary come first; those with one value throughout (an import's flags, its county,
    its receiver, its events' time…) follow as one suffix spelled once and shared by every row, so
    they cost no join per row. A column that is NULL throughout and whose default is NULL is left
    out, which spares the server parsing it too.
    """
    single = [_single_value(column) for column in values]
    varying = [i for i in range(len(names)) if not single[i]]
    fixed = [i for i in range(len(names))
             if single[i] and not (values[i][0] is None and _null_by_default(table.c[names[i]]))]
    texts = [_column_text(values[i], _kind(table.c[names[i]])) for i in varying]
    if fixed:
        suffix = "\t".join(_column_text(values[i][:1], _kind(table.c[names[i]]))[0] for i in fixed)
        texts.append([suffix] * len(values[0]))
    text = ("\n".join(map("\t".join, zip(*texts, strict=True))) + "\n").encode()
    return Copy(tuple(names[i] for i in (*varying, *fixed)), text)


def _null_by_default(column: Column[Any]) -> bool:
    """Whether the server fills ``column`` with NULL when a COPY leaves it out."""
    return column.nullable is True and column.server_default is None and not column.primary_key


def _single_value(values: Sequence[Any]) -> bool:
    """Whether every value equals the first; the ends are compared first, as most columns vary and
    a scan of aware datetimes, each comparison asking both for their offset, is not free."""
    return len(values) > 1 and values[0] == values[-1] and values.count(values[0]) == len(values)


def _column_text(values: Sequence[Any], kind: str) -> Sequence[str]:
    """One column as COPY text; columns without NULLs convert through ``map`` at C speed.

    A UTC timestamp keeps its ``+00:00``: a ``timestamp without time zone`` column ignores the
    offset, so the naive UTC value lands as ``UTCDateTime`` stores it; any other offset is
    converted first.
    """
    if None in values:
        present = [v for v in values if v is not None]
        texts = iter(_column_text(present, kind))
        return [_NULL if v is None else next(texts) for v in values]
    if kind == "time":
        return _utc_texts(values)
    if kind == "bool":
        return ["t" if v else "f" for v in values]
    if kind == "float":
        return list(map(repr, map(float, values)))
    if kind == "int":
        return list(map(str, map(int, values)))
    texts = list(map(str, values))
    joined = "".join(texts)
    if any(mark in joined for mark in _SPECIAL):
        texts = [t.translate(_ESCAPES) for t in texts]
    return texts


def _utc_texts(values: Sequence[datetime]) -> list[str]:
    """Aware datetimes as naive UTC text, as ``UTCDateTime`` stores them.

    Exact integer microseconds since 1970 formatted by numpy: a third of the time of
    ``isoformat`` per value, and five time columns a case made it a fifth of the import's CPU.
    """
    try:
        deltas = [value - _EPOCH for value in values]
    except TypeError:
        raise ValueError("naive datetime given to a UTC column") from None
    micros = np.fromiter(map(_MICROSECOND.__rfloordiv__, deltas), dtype=np.int64, count=len(deltas))
    return np.datetime_as_string(micros.astype("datetime64[us]")).tolist()  # type: ignore[no-any-return]


def _insert_generic(session: Session, batch: Batch, columns: tuple[str, ...]) -> int:
    """Core ``insert()`` executemany with explicit ids (SQLite); the column types convert the values."""
    if not batch.cases:
        return 0
    session.execute(
        insert(Case.__table__),
        [{"id": case_id, **dict(zip(columns, values, strict=True))}
         for case_id, values in zip(batch.ids, batch.cases, strict=True)],
    )
    if batch.events:
        session.execute(
            insert(CaseEvent.__table__),
            [{"case_id": batch.ids[values[0]], **dict(zip(EVENT_COLUMNS, values[1:], strict=True))}
             for values in batch.events],
        )
    return len(batch.cases)
