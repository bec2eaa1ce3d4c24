"""What screens, the duty console and the API read of the warnings, and the audited acknowledgement.

Every reader names the county it serves; an area asked for must lie inside it (and inside the
caller's area, ``dashboard.access.scope``), or nothing is shown: the same rule as every figure.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

import redis
from sqlalchemy.orm import Session

from dashboard.access.scope import caller_sees
from dashboard.domain.area_scope import contains
from dashboard.domain.errors import FieldError
from dashboard.domain.warning_view import WarningView
from data_access import audit
from data_access import warnings as store
from data_access.models import AreaWarning

if TYPE_CHECKING:
    from dashboard.cases.personal_data import Actor
    from dashboard.runtime import Runtime

log = logging.getLogger(__name__)
ACK_ACTION = "warning_acknowledge"


def view(row: AreaWarning) -> WarningView:
    return WarningView(row.id, row.area_code, row.area_level, row.category, row.window_days, row.observed,
                       row.expected, row.p_value, row.reason_zh, row.reason_en, row.first_seen, row.last_seen,
                       row.acknowledged_by, row.acknowledged_at)


def open_in(session: Session, county: str, area: str | None = None, *, limit: int = store.MAX_LISTED) -> list[WarningView]:
    """Open warnings of ``county`` whose area lies inside ``area`` (the county when ``None``),
    least probable first. Nothing outside the caller's area."""
    if not caller_sees(area or county):
        return []
    rows = store.open_warnings(session, county, inside=area, limit=store.MAX_LISTED)
    return [view(r) for r in rows if contains(area or county, r.area_code) and caller_sees(r.area_code)][:limit]


def current(rt: Runtime, area: str | None = None, *, limit: int = store.MAX_LISTED) -> list[WarningView]:
    with rt.sessions() as session:
        return open_in(session, rt.cases.county_code, area, limit=limit)


class WarningNotFound(FieldError):
    def __init__(self) -> None:
        super().__init__("warning_id", "no such open warning", code="not_found")


def acknowledge(rt: Runtime, warning_id: int, *, who: Actor, at: datetime | None = None) -> bool:
    """"I have seen this warning": who and when, once (the first acknowledgement stands, checked
    under the row lock), with its audit entry in the same transaction. Returns whether this call
    recorded it; refuses a warning of another county or area, or one already cleared."""
    at = at or rt.clock()
    with rt.sessions.begin() as session:
        row = store.get(session, warning_id, for_update=True)
        if row is None or row.county_code != rt.cases.county_code or not caller_sees(row.area_code) \
                or row.cleared_at is not None:
            raise WarningNotFound()
        if row.acknowledged_at is not None:
            return False
        row.acknowledged_at, row.acknowledged_by = at, who.name[:64]
        audit.record(session, actor=who.name, role=who.role, action=ACK_ACTION, target=f"warning:{row.id}",
                     detail={"area": row.area_code, "category": row.category, "reason": row.reason_zh}, ip=who.ip, at=at)
    try:
        store.announce(rt.redis, rt.cases.county_code)
    except redis.exceptions.RedisError:
        log.warning("warning acknowledged but Redis is away: screens see it at their next minute", exc_info=True)
    return True
