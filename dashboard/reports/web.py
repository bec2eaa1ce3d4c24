"""``/reports``: leaders and admins list, download and generate the county's reports.

The route table (``dashboard.access.auth.RULES``) admits only leaders and admins; the served
county's reports are the only ones listed or served. The list is a server-rendered, autoescaped
jinja2 page (``templates/reports.html``) with no inline script; its "generate" form posts through
``/reports/static/reports.js``, which adds the session's CSRF header the gate requires of every POST.
Every download and every generation is written to the audit log.
"""

from __future__ import annotations

import hashlib
from importlib.resources import files
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined
from sqlalchemy.orm import Session

from dashboard.access.auth import current_user
from dashboard.api.errors import ApiError
from dashboard.api.request_session import session_dependency
from dashboard.domain.labels import LABELS, label
from dashboard.domain.periods import LOCAL_TZ
from dashboard.domain.report_periods import ReportKind, ReportPeriodError, parse_period
from dashboard.domain.report_text import text
from dashboard.reports import service
from dashboard.reports.content import UnknownAreaError
from data_access import areas, audit, panel_queries, report_archive

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dashboard.runtime import Runtime

PAGE_SIZE = 100
PAGE_WORDS = "reports."
"""The page's words in the one label catalogue (``dashboard.domain.labels``)."""
STATIC = {"reports.js": "text/javascript; charset=utf-8", "reports.css": "text/css; charset=utf-8"}
_templates = Environment(loader=PackageLoader("dashboard.reports", "templates"), autoescape=True,
                         undefined=StrictUndefined)


def _who(request: Request) -> tuple[str, str, str | None]:
    principal = current_user()
    ip = request.client.host if request.client else None
    return (principal.name, principal.role.value, ip) if principal else ("anonymous", "", ip)


def build_reports_router(rt: Runtime) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    db_session = session_dependency(rt.sessions)

    @router.get("/reports")
    def reports_page(lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
                     kind: Annotated[ReportKind | None, Query()] = None,
                     page: Annotated[int, Query(ge=1, le=10_000)] = 1,
                     session: Session = Depends(db_session)) -> HTMLResponse:
        county = rt.cases.county_code
        names = {county: rt_county_name(session, county), **panel_queries.township_names(session, county)}
        rows = report_archive.listing(session, county, kind=kind.value if kind else None, limit=PAGE_SIZE,
                                      offset=(page - 1) * PAGE_SIZE)
        total = report_archive.count(session, county, kind=kind.value if kind else None)
        items = [{
            "id": r.id, "kind": text(f"short.{r.kind}", lang), "period": r.period, "issue": r.issue,
            "area": names.get(r.area_code, r.area_code), "lang": r.lang, "version": r.version, "format": r.format,
            "at": r.generated_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"), "by": r.generated_by,
            "size": f"{r.size / 1024:.0f} KB", "sha": r.sha256[:12],
        } for r in rows]
        words = {key.removeprefix(PAGE_WORDS): label(key, lang) for key in LABELS if key.startswith(PAGE_WORDS)}
        page_html = _templates.get_template("reports.html").render(
            lang=lang, words=words, items=items, total=words["total"].format(n=total), page=page,
            pages=max(1, -(-total // PAGE_SIZE)), kinds=[(k.value, text(f"short.{k.value}", lang)) for k in ReportKind],
            townships=sorted(names.items()))
        return HTMLResponse(page_html, headers={"Cache-Control": "no-store"})

    @router.get("/reports/static/{name}")
    def static(name: str) -> Response:
        if name not in STATIC:
            raise ApiError(404, "not_found", "name", "no such file")
        return Response(files("dashboard.reports").joinpath("templates", name).read_bytes(), media_type=STATIC[name],
                        headers={"Cache-Control": "public, max-age=3600"})

    @router.get("/reports/{document_id}/download")
    def download(document_id: Annotated[int, Path(ge=1, le=2**62)], request: Request, session: Session = Depends(db_session)) -> Response:
        actor, role, ip = _who(request)
        with session.begin():
            row = report_archive.get(session, document_id)
            if row is None or row.county_code != rt.cases.county_code:
                raise ApiError(404, "not_found", "document_id", "no such report")
            audit.record(session, actor=actor, role=role, action="report.download",
                         target=f"{row.kind}:{row.period}:{row.area_code}:{row.lang}:v{row.version}:{row.format}",
                         detail={"id": row.id, "sha256": row.sha256}, ip=ip)
            content = row.content
        name = f"{row.kind}-{row.period}-{row.area_code}-{row.lang}-v{row.version}.{row.format}"
        return Response(content, media_type=service.MEDIA_TYPES[row.format], headers={
            "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store", "X-Content-SHA256": row.sha256})

    @router.post("/reports/make")
    def make(request: Request, kind: Annotated[ReportKind, Query()], period: Annotated[str, Query(max_length=10)],
             lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
             area: Annotated[str | None, Query(max_length=15, pattern="^[0-9]+$")] = None) -> JSONResponse:
        try:
            span = parse_period(kind, period)
        except ReportPeriodError as error:
            raise ApiError(422, "invalid", "period", str(error)) from None
        actor, role, ip = _who(request)
        try:
            made = service.make(rt, kind=kind, period=span, area=area, lang=lang, actor=actor, role=role, ip=ip)
        except UnknownAreaError as error:
            raise ApiError(404, "not_found", "area", str(error)) from None
        except ValueError as error:
            raise ApiError(422, "invalid", "period", str(error)) from None
        return JSONResponse({"issue": made.issue, "version": made.version, "ids": made.ids,
                             "sha256": {fmt: hashlib.sha256(data).hexdigest() for fmt, data in made.documents.items()}}, status_code=201)

    return router


def rt_county_name(session: Session, county: str) -> str:
    row = areas.get_county(session, county)
    return row.name if row else county
