"""The audit log for admins: a server-rendered page at /admin/audit and JSON at /api/audit.

The page is ``templates/audit.html``, autoescaped: an entry's actor, target or detail is whatever
someone typed or sent, and is shown as text, never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, PackageLoader, StrictUndefined
from sqlalchemy.orm import Session

from dashboard.api.request_session import session_dependency
from dashboard.runtime import Runtime
from dashboard.domain.periods import LOCAL_TZ
from data_access import audit
from data_access.models import AuditEntry

PAGE_SIZE = 50
_templates = Environment(loader=PackageLoader("dashboard.api", "templates"), autoescape=True,
                         undefined=StrictUndefined)


def entry_json(entry: AuditEntry) -> dict[str, object]:
    return {"id": entry.id, "at": entry.at.isoformat(), "actor": entry.actor, "role": entry.role,
            "action": entry.action, "target": entry.target, "detail": entry.detail, "ip": entry.ip,
            "hash": entry.hash}


def entry_cells(entry: AuditEntry) -> tuple[str, ...]:
    """One table row: the local (Asia/Shanghai) time, then who did what to what, the detail and the address."""
    return tuple(str(value or "") for value in (
        entry.at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S"), entry.actor, entry.role, entry.action,
        entry.target, entry.detail, entry.ip))


ALERT_ACTIONS = ("reveal_quota_reached",)
"""Entries an admin must see without searching: they head the page and ``/api/audit``'s ``alerts``."""
ALERT_DAYS = 7


def alert_text(entry: AuditEntry) -> str:
    """One alert, in Chinese and English."""
    when = entry.at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    limit = audit.detail_of(entry).get("limit", "?")
    return (f"{when} {entry.actor} 一小时内查看个人信息达到上限（{limit} 次），后续查看已被拒绝 · "
            f"{entry.actor} reached the quota of {limit} reveals of personal data in an hour; further reveals are refused")


def alerts(session: Session, now: datetime) -> list[AuditEntry]:
    """The alert entries of the last ``ALERT_DAYS`` days, newest first."""
    since = now - timedelta(days=ALERT_DAYS)
    found = [entry for action in ALERT_ACTIONS for entry in audit.recent(session, action=action, since=since)]
    return sorted(found, key=lambda entry: entry.id, reverse=True)


def audit_page(entries: list[AuditEntry], *, page: int, pages: int, total: int, action: str | None,
               alert_entries: Sequence[AuditEntry] = ()) -> str:
    """Page ``page`` of ``pages`` of the log (``total`` entries, only ``action`` ones if given), under its alerts."""
    return _templates.get_template("audit.html").render(
        rows=[entry_cells(e) for e in entries], page=page, pages=pages, total=total, action=action,
        alerts=[alert_text(e) for e in alert_entries])


def build_audit_router(rt: Runtime) -> APIRouter:
    router = APIRouter()
    db_session = session_dependency(rt.sessions)

    @router.get("/admin/audit", include_in_schema=False)
    def admin_audit(page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
                    action: Annotated[str | None, Query(max_length=32)] = None,
                    session: Session = Depends(db_session)) -> HTMLResponse:
        total = audit.count(session, action=action)
        entries = audit.page(session, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE, action=action)
        pages = max(1, -(-total // PAGE_SIZE))
        return HTMLResponse(audit_page(entries, page=page, pages=pages, total=total, action=action,
                                       alert_entries=alerts(session, rt.clock())),
                            headers={"Cache-Control": "no-store"})

    @router.get("/api/audit")
    def api_audit(offset: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=audit.MAX_PAGE)] = 50,
                  action: Annotated[str | None, Query(max_length=32)] = None,
                  session: Session = Depends(db_session)) -> JSONResponse:
        """The audit log, newest first (admins only)."""
        total = audit.count(session, action=action)
        entries = [entry_json(e) for e in audit.page(session, offset=offset, limit=limit, action=action)]
        raised = [entry_json(e) for e in alerts(session, rt.clock())]
        return JSONResponse({"total": total, "offset": offset, "entries": entries, "alerts": raised},
                            headers={"Cache-Control": "no-store"})

    return router
