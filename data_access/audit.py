"""The audit log: who did what to which record, from where. Functions never commit.

Callers write the entry in the same transaction as the change it records, so a change without
its entry (or an entry for a change that was rolled back) cannot happen.

The log is a hash chain (``dashboard.domain.audit_chain``): each entry stores the hash of the one
before it and its own. An append first locks the one row of ``audit_chain_head`` (an ``UPDATE``,
which PostgreSQL holds as a row lock and SQLite as its database write lock until the caller's
transaction ends), reads the last hash there, writes the entry and moves the head. So appends
from any number of threads and processes follow one another and the chain never forks; the price
is that audited transactions commit one at a time, which they are short enough to afford. Record
the entry after the rows the transaction locks (every caller does), so the chain head is always
the last lock taken and two transactions can never wait on each other.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dashboard.domain.audit_chain import GENESIS, ChainBreak, ChainedFields, entry_hash, first_break
from data_access.models import AuditChainHead, AuditEntry

MAX_PAGE = 500


def record(session: Session, *, actor: str, role: str, action: str, target: str = "",
           detail: Mapping[str, object] | str | None = None, ip: str | None = None,
           at: datetime | None = None) -> AuditEntry:
    """Add one entry; ``detail`` is stored as JSON text (a plain string is kept as is)."""
    if not actor or not action:
        raise ValueError("an audit entry needs an actor and an action")
    text = detail if isinstance(detail, str) else json.dumps(dict(detail or {}), ensure_ascii=False, default=str)
    if at is not None and at.tzinfo is None:
        raise ValueError("an audit time must carry its zone")
    fields = ChainedFields(at=(at or datetime.now(UTC)).astimezone(UTC), actor=actor[:64], role=role[:16],
                           action=action[:32], target=target[:128], detail=text, ip=(ip or None) and ip[:45])
    previous = lock_head(session)
    digest = entry_hash(fields, previous)
    entry = AuditEntry(at=fields.at, actor=fields.actor, role=fields.role, action=fields.action, target=fields.target,
                       detail=fields.detail, ip=fields.ip, prev_hash=previous, hash=digest)
    session.add(entry)
    session.flush()
    session.execute(update(AuditChainHead).where(AuditChainHead.id == HEAD_ID).values(last_id=entry.id, last_hash=digest))
    return entry


HEAD_ID = 1


def lock_head(session: Session) -> str:
    """Lock the chain head for the rest of the caller's transaction and return the last hash.

    A database made without the migrations (no head row yet) gets its head here, from the last
    entry; the migration makes it everywhere else."""
    held = session.execute(update(AuditChainHead).where(AuditChainHead.id == HEAD_ID)
                           .values(last_id=AuditChainHead.last_id).returning(AuditChainHead.last_hash)).scalar()
    if held is not None:
        return held
    last = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    session.add(AuditChainHead(id=HEAD_ID, last_id=last.id if last else 0, last_hash=(last.hash if last else None) or GENESIS))
    session.flush()
    return lock_head(session)


@dataclass(frozen=True)
class Verification:
    """What ``verify`` found: the first break (``None``: the chain holds), entries checked, the head hash."""

    broken: ChainBreak | None
    checked: int
    head_hash: str


def verify(session: Session, *, batch: int = 1000) -> Verification:
    """Recompute the chain in id order, ``batch`` entries per query, and compare the chain head row."""

    def entries() -> Iterator[tuple[int, ChainedFields, str | None, str | None]]:
        after = 0
        while True:
            rows = list(session.scalars(select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id)
                                        .limit(batch)))
            for row in rows:
                yield row.id, ChainedFields(at=row.at, actor=row.actor, role=row.role, action=row.action,
                                            target=row.target, detail=row.detail, ip=row.ip), row.prev_hash, row.hash
            if len(rows) < batch:
                return
            after = rows[-1].id
            session.expunge_all()

    head = session.get(AuditChainHead, HEAD_ID)
    broken, checked, last = first_break(entries(), head_id=head.last_id if head else None,
                                        head_hash=head.last_hash if head else None)
    return Verification(broken, checked, last)


def times_since(session: Session, *, actor: str, action: str, since: datetime, bound: int = 10_000) -> list[datetime]:
    """When ``actor`` did ``action`` at or after ``since``, oldest first (at most the newest ``bound``);
    e.g. one officer's reveals in the last hour."""
    rows = session.scalars(select(AuditEntry.at).where(AuditEntry.actor == actor[:64], AuditEntry.action == action,
                                                       AuditEntry.at >= since)
                           .order_by(AuditEntry.at.desc()).limit(bound))
    return sorted(rows)


def recent(session: Session, *, action: str, since: datetime, limit: int = 20) -> list[AuditEntry]:
    """Entries of ``action`` at or after ``since``, newest first (the admin's alerts)."""
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action, AuditEntry.at >= since)
                                .order_by(AuditEntry.id.desc()).limit(limit)))


def page(session: Session, *, offset: int = 0, limit: int = 50, action: str | None = None) -> list[AuditEntry]:
    """Newest first."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if action:
        query = query.where(AuditEntry.action == action)
    return list(session.scalars(query.offset(max(offset, 0)).limit(min(max(limit, 1), MAX_PAGE))))


def count(session: Session, *, action: str | None = None) -> int:
    query = select(func.count()).select_from(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    return int(session.scalar(query) or 0)


def latest(session: Session, *, action: str) -> AuditEntry | None:
    """The newest entry of one action (e.g. the last recorded configuration), or ``None``."""
    return session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                           .order_by(AuditEntry.id.desc()).limit(1)).first()


def detail_of(entry: AuditEntry) -> dict[str, object]:
    """An entry's detail as a mapping (``{}`` for a plain-text detail)."""
    try:
        parsed = json.loads(entry.detail or "{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
