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
STATIC = {"reports.js": "text/javascript; charset=utf-8", "reports.css": "text/css; charset=utf-8"}
_templates = Environment(loader=PackageLoader("dashboard.reports", "templates"), autoescape=True,
                         undefined=StrictUndefined)
WORDS = {
    "title": {"zh": "报告", "en": "Reports"},
    "make": {"zh": "生成报告", "en": "Generate a report"},
    "kind": {"zh": "类型", "en": "Kind"},
    "period": {"zh": "周期", "en": "Period"},
    "issue": {"zh": "期数", "en": "Issue"},
    "area": {"zh": "范围", "en": "Area"},
    "lang": {"zh": "语言", "en": "Language"},
    "version": {"zh": "版本", "en": "Version"},
    "at": {"zh": "生成时间", "en": "Generated"},
    "by": {"zh": "生成人", "en": "By"},
    "files": {"zh": "下载", "en": "Download"},
    "none": {"zh": "尚无报告。", "en": "No reports yet."},
    "back": {"zh": "返回平板", "en": "Back to the tablet"},
    "hint": {"zh": "周期格式：日报 2025-06-02，周报 2025-W23，月报 2025-06。重新生成同一周期会新增版本，旧版本保留。",
             "en": "Periods: daily 2025-06-02, weekly 2025-W23, monthly 2025-06. Generating a period again adds a version; the old one is kept."},
    "total": {"zh": "共 {n} 个文件", "en": "{n} files"},
}


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
        words = {k: v[lang] for k, v in WORDS.items()}
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
