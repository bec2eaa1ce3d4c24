"""The audit log: who did what to which record, from where. Functions never commit.

Callers write the entry in the same transaction as the change it records, so a change without
its entry (or an entry for a change that was rolled back) cannot happen.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data_access.models import AuditEntry

MAX_PAGE = 500


def record(session: Session, *, actor: str, role: str, action: str, target: str = "",
           detail: Mapping[str, object] | str | None = None, ip: str | None = None,
           at: datetime | None = None) -> AuditEntry:
    """Add one entry; ``detail`` is stored as JSON text (a plain string is kept as is)."""
    if not actor or not action:
        raise ValueError("an audit entry needs an actor and an action")
    text = detail if isinstance(detail, str) else json.dumps(dict(detail or {}), ensure_ascii=False, default=str)
    entry = AuditEntry(at=at or datetime.now(UTC), actor=actor[:64], role=role[:16], action=action[:32],
                       target=target[:128], detail=text, ip=(ip or None) and ip[:45])
    session.add(entry)
    session.flush()
    return entry


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
