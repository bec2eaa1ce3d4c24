"""The audit log for admins: a server-rendered page at /admin/audit and JSON at /api/audit."""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse

from dashboard.runtime import Runtime
from dashboard.domain.periods import LOCAL_TZ
from data_access import audit
from data_access.models import AuditEntry

PAGE_SIZE = 50


def entry_json(entry: AuditEntry) -> dict[str, object]:
    return {"id": entry.id, "at": entry.at.isoformat(), "actor": entry.actor, "role": entry.role,
            "action": entry.action, "target": entry.target, "detail": entry.detail, "ip": entry.ip}


def audit_page(entries: list[AuditEntry], *, page: int, pages: int, total: int, action: str | None) -> str:
    rows = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v or ''))}</td>" for v in (
            e.at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.role, e.action, e.target, e.detail, e.ip,
        )) + "</tr>"
        for e in entries
    )
    keep = f"&amp;action={html.escape(action)}" if action else ""
    prev = f'<a href="/admin/audit?page={page - 1}{keep}">← 上一页</a>' if page > 1 else ""
    nxt = f'<a href="/admin/audit?page={page + 1}{keep}">下一页 →</a>' if page < pages else ""
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>审计日志 · Audit log</title>
<link rel="stylesheet" href="/login.css"></head><body><main class="audit">
<h1>审计日志 · Audit log</h1><p>共 {total} 条 · {total} entries · 第 {page}/{pages} 页</p>
<table><thead><tr><th>时间</th><th>操作人</th><th>角色</th><th>动作</th><th>对象</th><th>详情</th><th>IP</th></tr></thead>
<tbody>{rows}</tbody></table><nav>{prev} {nxt}</nav></main></body></html>"""


def build_audit_router(rt: Runtime) -> APIRouter:
    router = APIRouter()

    @router.get("/admin/audit", include_in_schema=False)
    def admin_audit(page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
                    action: Annotated[str | None, Query(max_length=32)] = None) -> HTMLResponse:
        with rt.sessions() as session:
            total = audit.count(session, action=action)
            entries = audit.page(session, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE, action=action)
        pages = max(1, -(-total // PAGE_SIZE))
        return HTMLResponse(audit_page(entries, page=page, pages=pages, total=total, action=action),
                            headers={"Cache-Control": "no-store"})

    @router.get("/api/audit")
    def api_audit(offset: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=audit.MAX_PAGE)] = 50,
                  action: Annotated[str | None, Query(max_length=32)] = None) -> JSONResponse:
        """The audit log, newest first (admins only)."""
        with rt.sessions() as session:
            total = audit.count(session, action=action)
            entries = [entry_json(e) for e in audit.page(session, offset=offset, limit=limit, action=action)]
        return JSONResponse({"total": total, "offset": offset, "entries": entries}, headers={"Cache-Control": "no-store"})

    return router
