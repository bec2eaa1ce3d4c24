"""The aggregate outbox: which committed cases Redis may still owe.

A writer records its cases here in the same transaction as the cases themselves
(:func:`owe`), and deletes the rows once Redis took them (:func:`settle`). A writer that dies
between its commit and that delete, or meets a Redis that is away, leaves rows behind; any
process drains them (``CaseService.drain``): it re-applies each case from its current row, which
is idempotent, and then settles the rows. So a crash while Redis is away loses nothing and needs
no one to run ``cache rebuild``.

Query functions take the caller's session and never commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from data_access.models import AggregateOwed

CHUNK = 1000
"""Ids per ``IN (…)`` list: well inside every database's limit on bound parameters."""


def owe(session: Session, county: str, case_ids: Iterable[int], now: datetime) -> list[int]:
    """Record that Redis owes ``case_ids`` (in the caller's transaction); returns the rows' ids."""
    rows = [{"county_code": county, "case_id": case_id, "created_at": now} for case_id in case_ids]
    if not rows:
        return []
    return list(session.scalars(insert(AggregateOwed).returning(AggregateOwed.id), rows))


def settle(session: Session, ids: Sequence[int]) -> None:
    """Forget rows whose cases Redis took (rows another process settled first are simply gone)."""
    for start in range(0, len(ids), CHUNK):
        session.execute(delete(AggregateOwed).where(AggregateOwed.id.in_(ids[start : start + CHUNK])))


def pending(session: Session, county: str, *, limit: int, before: datetime | None = None) -> list[tuple[int, int]]:
    """The oldest owed rows of ``county`` as (row id, case id), locked for this transaction.

    Rows another drainer holds are skipped (PostgreSQL), so processes draining at once share the
    work instead of queueing on each other. ``before`` leaves younger rows to the writer that is
    about to settle them itself."""
    query = select(AggregateOwed.id, AggregateOwed.case_id).where(AggregateOwed.county_code == county)
    if before is not None:
        query = query.where(AggregateOwed.created_at < before)
    query = query.order_by(AggregateOwed.id).limit(limit).with_for_update(skip_locked=True)
    return [(row_id, case_id) for row_id, case_id in session.execute(query)]


def still_owed(session: Session, ids: Sequence[int]) -> set[int]:
    """Which of the row ids ``ids`` are still in the outbox."""
    found: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        found.update(session.scalars(select(AggregateOwed.id).where(AggregateOwed.id.in_(ids[start : start + CHUNK]))))
    return found


def owed_cases(session: Session, county: str) -> int:
    """How many distinct cases of ``county`` the outbox names."""
    return int(session.scalar(select(func.count(func.distinct(AggregateOwed.case_id)))
                              .where(AggregateOwed.county_code == county)) or 0)
