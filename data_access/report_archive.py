"""The archive of generated reports (``report_document``). Functions never commit.

A version is never overwritten: :func:`file` adds the next version of a (kind, period, area,
language) and reuses the issue number (第N期) the period was first filed under; the first filing of
a period takes the next issue number of its county, area, kind and year. The table's unique key
makes two processes that race to file the same version fail in one of them, not both succeed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer, undefer

from data_access.models import ReportDocument

MAX_LIST = 500


@dataclass(frozen=True)
class ReportKey:
    county: str
    kind: str
    period: str
    period_first: date
    year_first: date
    """The first day of the report year (issues restart each year)."""
    year_last: date
    area: str
    lang: str


def latest_version(session: Session, key: ReportKey) -> int:
    stmt = select(func.max(ReportDocument.version)).where(
        ReportDocument.county_code == key.county, ReportDocument.kind == key.kind, ReportDocument.period == key.period,
        ReportDocument.area_code == key.area, ReportDocument.lang == key.lang)
    return int(session.scalar(stmt) or 0)


def issue_for(session: Session, key: ReportKey) -> int:
    """The issue the period already has (in any language), else the next one of its year."""
    same = (ReportDocument.county_code == key.county, ReportDocument.kind == key.kind,
            ReportDocument.area_code == key.area)
    existing = session.scalar(select(func.min(ReportDocument.issue)).where(*same, ReportDocument.period == key.period))
    if existing:
        return int(existing)
    in_year = session.scalar(select(func.max(ReportDocument.issue)).where(
        *same, ReportDocument.period_first >= key.year_first, ReportDocument.period_first <= key.year_last))
    return int(in_year or 0) + 1


def file(session: Session, key: ReportKey, *, version: int, issue: int, documents: dict[str, bytes],
         generated_at: datetime, generated_by: str) -> list[ReportDocument]:
    """Add one version's documents (format → bytes) with their SHA-256; flushes, so a race fails here."""
    rows = []
    for fmt, content in sorted(documents.items()):
        row = ReportDocument(county_code=key.county, kind=key.kind, period=key.period, period_first=key.period_first,
                             area_code=key.area, lang=key.lang, format=fmt, version=version, issue=issue,
                             generated_at=generated_at, generated_by=generated_by[:64],
                             sha256=hashlib.sha256(content).hexdigest(), size=len(content), content=content)
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def exists(session: Session, key: ReportKey) -> bool:
    return latest_version(session, key) > 0


def listing(session: Session, county: str | None, *, kind: str | None = None, limit: int = 100,
            offset: int = 0) -> list[ReportDocument]:
    """Newest period first, then newest version; without the bytes."""
    stmt = select(ReportDocument).options(defer(ReportDocument.content))
    if county is not None:
        stmt = stmt.where(ReportDocument.county_code == county)
    if kind is not None:
        stmt = stmt.where(ReportDocument.kind == kind)
    stmt = stmt.order_by(ReportDocument.period_first.desc(), ReportDocument.kind, ReportDocument.area_code,
                         ReportDocument.lang, ReportDocument.version.desc(), ReportDocument.format)
    return list(session.scalars(stmt.offset(offset).limit(min(limit, MAX_LIST))))


def count(session: Session, county: str | None, *, kind: str | None = None) -> int:
    stmt = select(func.count(ReportDocument.id))
    if county is not None:
        stmt = stmt.where(ReportDocument.county_code == county)
    if kind is not None:
        stmt = stmt.where(ReportDocument.kind == kind)
    return int(session.scalar(stmt) or 0)


def get(session: Session, document_id: int) -> ReportDocument | None:
    return session.scalar(select(ReportDocument).options(undefer(ReportDocument.content))
                          .where(ReportDocument.id == document_id))
