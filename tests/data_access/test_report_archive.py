"""The report archive: versions beside each other, issue numbers per kind and year, and the unique
key that lets only one of two racing processes file a version."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from dashboard.runtime import Runtime
from data_access import report_archive
from data_access.report_archive import ReportKey

AT = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)


def _key(period: str, first: date, *, lang: str = "zh", area: str = "990101") -> ReportKey:
    return ReportKey(county="990101", kind="daily", period=period, period_first=first,
                     year_first=date(first.year, 1, 1), year_last=date(first.year, 12, 31), area=area, lang=lang)


def test_issues_count_per_year_and_versions_stay_side_by_side(runtime: Runtime, county: str) -> None:
    jan2, jan3, dec31 = _key("2026-01-02", date(2026, 1, 2)), _key("2026-01-03", date(2026, 1, 3)), \
        _key("2025-12-31", date(2025, 12, 31))
    with runtime.sessions() as session, session.begin():
        assert report_archive.issue_for(session, dec31) == 1
        report_archive.file(session, dec31, version=1, issue=1, documents={"pdf": b"%PDF-old"}, generated_at=AT,
                            generated_by="system:reports")
        assert report_archive.issue_for(session, jan2) == 1, "issues restart with the year"
        report_archive.file(session, jan2, version=1, issue=1, documents={"pdf": b"a", "docx": b"b"}, generated_at=AT,
                            generated_by="甲")
        assert report_archive.issue_for(session, jan3) == 2
        assert report_archive.issue_for(session, _key("2026-01-02", date(2026, 1, 2), lang="en")) == 1, \
            "an English copy of a period has the period's issue"
        assert report_archive.issue_for(session, _key("2026-01-02", date(2026, 1, 2), area="990101001")) == 1, \
            "a township's reports are their own series"
        report_archive.file(session, jan2, version=2, issue=1, documents={"pdf": b"c"}, generated_at=AT, generated_by="乙")
        assert report_archive.latest_version(session, jan2) == 2
    with runtime.sessions() as session:
        rows = report_archive.listing(session, "990101")
        assert [(r.period, r.version, r.format) for r in rows] == [
            ("2026-01-02", 2, "pdf"), ("2026-01-02", 1, "docx"), ("2026-01-02", 1, "pdf"), ("2025-12-31", 1, "pdf")]
        old = report_archive.get(session, rows[2].id)
        assert old is not None and old.content == b"a" and old.size == 1
        assert report_archive.count(session, "990101") == 4 and report_archive.listing(session, "000000") == []


def test_two_processes_filing_the_same_version_leave_one_row(runtime: Runtime, county: str) -> None:
    key = _key("2026-01-04", date(2026, 1, 4))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def file(who: str) -> None:
        try:
            with runtime.sessions() as session, session.begin():
                version = report_archive.latest_version(session, key) + 1
                barrier.wait(timeout=10)
                report_archive.file(session, key, version=version, issue=1, documents={"pdf": who.encode()},
                                    generated_at=AT, generated_by=who)
            outcomes.append("filed")
        except IntegrityError:
            outcomes.append("refused")
        except Exception as error:  # SQLite: the second writer waits, then sees the lock or the key
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=file, args=(name,)) for name in ("甲", "乙")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with runtime.sessions() as session:
        assert report_archive.latest_version(session, key) == 1
        assert len(report_archive.listing(session, "990101")) == 1
    assert outcomes.count("filed") == 1, outcomes


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_listing_never_loads_the_bytes(runtime: Runtime, county: str) -> None:
    key = _key("2026-01-05", date(2026, 1, 5))
    with runtime.sessions() as session, session.begin():
        report_archive.file(session, key, version=1, issue=1, documents={"pdf": b"x" * 10_000}, generated_at=AT,
                            generated_by="甲")
    with runtime.sessions() as session:
        row = report_archive.listing(session, "990101")[0]
        assert "content" not in row.__dict__, "deferred: a list of reports does not read megabytes"
