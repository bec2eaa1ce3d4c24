"""Make a report: gather its content, draw the charts and the map, write DOCX and PDF, file both
in the archive as a new version and audit the generation, in one transaction.

Issue numbers (第N期) and versions come from the archive (``data_access.report_archive``): the
same period generated again keeps its issue and gets the next version, beside the old one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from dashboard.domain.periods import Period
from dashboard.domain.report_periods import ReportKind, period_name, report_year
from dashboard.domain.report_text import file_stem
from dashboard.reports import charts, content as gathering
from dashboard.reports.docx_writer import write_docx
from dashboard.reports.fonts import font_files
from dashboard.reports.pdf_writer import write_pdf
from data_access import audit, report_archive
from data_access.report_archive import ReportKey

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dashboard.runtime import Runtime

log = logging.getLogger(__name__)
FORMATS = ("docx", "pdf")
MEDIA_TYPES = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
               "pdf": "application/pdf"}


@dataclass(frozen=True)
class MadeReport:
    key: ReportKey
    version: int
    issue: int
    documents: dict[str, bytes]
    ids: dict[str, int]
    stem: str
    seconds: dict[str, float]


def report_key(county: str, kind: ReportKind, period: Period, area: str, lang: str) -> ReportKey:
    year = report_year(kind, period)
    first, last = (date.fromisocalendar(year, 1, 1), date.fromisocalendar(year + 1, 1, 1)) \
        if kind is ReportKind.weekly else (date(year, 1, 1), date(year, 12, 31))
    return ReportKey(county=county, kind=kind.value, period=period_name(kind, period), period_first=period.first,
                     year_first=first, year_last=last, area=area, lang=lang)


def font_dir(rt: Runtime) -> Path:
    return rt.settings.var_dir / "fonts"


def make(rt: Runtime, *, kind: ReportKind, period: Period, area: str | None = None, lang: str = "zh",
         actor: str, role: str, now: datetime | None = None, ip: str | None = None,
         county: str | None = None) -> MadeReport:
    """Generate, archive (a new version) and audit one report; returns the documents and their ids.

    Raises ``ValueError`` for a period that has not begun and ``content.UnknownAreaError`` for an area
    that is neither the county nor one of its townships.
    """
    if lang not in ("zh", "en"):
        raise ValueError("lang is zh or en")
    now = now or rt.clock()
    if period.start > now:
        raise ValueError(f"the period starting {period.first.isoformat()} has not begun")
    county = county or rt.cases.county_code  # a served county; default: the deployment's default one
    area = area or county
    key = report_key(county, kind, period, area, lang)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    fonts = font_files(font_dir(rt))
    timings["fonts"] = time.perf_counter() - started
    with rt.sessions() as session:
        issue = report_archive.issue_for(session, key)
    mark = time.perf_counter()
    body = gathering.gather(rt, kind=kind, period=period, area=area, lang=lang, issue=issue, now=now, county=county)
    shapes = gathering.township_shapes(rt, county)
    timings["figures"] = time.perf_counter() - mark
    mark = time.perf_counter()
    images = charts.all_charts(body, shapes, fonts, lang)
    timings["charts"] = time.perf_counter() - mark
    mark = time.perf_counter()
    documents = {"docx": write_docx(body, images)}
    timings["docx"] = time.perf_counter() - mark
    mark = time.perf_counter()
    documents["pdf"] = write_pdf(body, images, fonts)
    timings["pdf"] = time.perf_counter() - mark
    mark = time.perf_counter()
    for attempt in range(3):
        try:
            with rt.sessions() as session, session.begin():
                version = report_archive.latest_version(session, key) + 1
                rows = report_archive.file(session, key, version=version, issue=issue, documents=documents,
                                           generated_at=now, generated_by=actor)
                audit.record(session, actor=actor, role=role, action="report.generate",
                             target=f"{key.kind}:{key.period}:{key.area}:{key.lang}:v{version}",
                             detail={"issue": issue, **{r.format: r.sha256 for r in rows}}, ip=ip, at=now)
                ids = {r.format: r.id for r in rows}
            break
        except IntegrityError:
            if attempt == 2:
                raise
            log.info("report %s v%s filed by another process meanwhile; filing the next version", key, version)
    timings["archive"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    return MadeReport(key, version, issue, documents, ids, file_stem(body), timings)


def write_files(made: MadeReport, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt, data in made.documents.items():
        path = folder / f"{made.stem}-v{made.version}.{fmt}"
        path.write_bytes(data)
        written.append(path)
    return written
