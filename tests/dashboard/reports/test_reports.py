"""Reports on the real servers: the truth test (every number of the key-figure table and of the
summary in the DOCX and the PDF equals /api/figures), no personal data, versions and issues,
audit, the /reports pages by role, and the schedule (one generator under two workers, a missed
run made up)."""

from __future__ import annotations

import io
import re
import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from docx import Document
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import func, select

from app import create_app
from dashboard.access.auth import Role
from dashboard.access.rate_limits import Limit
from dashboard.access.security import SecurityConfig
from dashboard.domain.periods import LOCAL_TZ, Period, local_date
from dashboard.domain.report_periods import (KindSchedule, ReportKind, ReportSchedule, containing, parse_period,
                                             period_name)
from dashboard.domain.rules import Rules
from dashboard.reports import schedule, service
from dashboard.runtime import Runtime
from data_access import panel_queries
from data_access.models import AuditEntry, Case, ReportDocument
from tests.dashboard.auth_support import as_role
from tests.dashboard.reports.history import PLANTED, PLANTED_TEXT, history

TOKEN = re.compile(r"—|[+-]?\d[\d,]*(?:\.\d+)?")
ROWS = ["受理（件）", "已办结（件）", "办结率", "按期办结率", "期末在办（件）", "期末超期（件）", "回访满意率"]


def _value(token: str) -> float | None:
    return None if token == "—" else float(token.replace(",", ""))


def _rel(now: int, before: int) -> float | None:
    return None if before <= 0 else round(100.0 * (now - before) / before, 1)


def _pt(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else round(now - before, 2)


def _at(cases: list[Case], at: datetime) -> tuple[int, int]:
    """Open and overdue at ``at``, straight from the rows (independent of the report's SQL)."""
    open_ = [c for c in cases if c.received_at < at and (c.resolved_at is None or c.resolved_at >= at)]
    return len(open_), sum(1 for c in open_ if c.due_at < at)


def _red(case: Case, rules: Rules) -> bool:
    return (case.people_involved >= rules.red_people or case.risk_extreme or case.risk_mass_incident
            or case.beyond_county_petition)


def _expected_rows(body: dict, cases: list[Case], period: Period, now: datetime) -> dict[str, tuple]:
    p, q, y = body["period"], body["previous_period"], body["same_period_last_year"]
    prev_end = datetime.fromisoformat(q["to"]).date()
    year_end = datetime.fromisoformat(y["to"]).date()
    prev_open, prev_overdue = _at(cases, Period(prev_end, prev_end).end)
    year_open, year_overdue = _at(cases, Period(year_end, year_end).end)
    open_, overdue = body["now"]["open"], body["now"]["overdue"]
    assert (open_, overdue) == _at(cases, now), "the period holds now: open/overdue are /api/figures' now"
    rows = {
        "受理（件）": (p["received"], _rel(p["received"], q["received"]), _rel(p["received"], y["received"])),
        "已办结（件）": (p["closed"], _rel(p["closed"], q["closed"]), _rel(p["closed"], y["closed"])),
        "期末在办（件）": (open_, _rel(open_, prev_open), _rel(open_, year_open)),
        "期末超期（件）": (overdue, _rel(overdue, prev_overdue), _rel(overdue, year_overdue)),
    }
    for label, key in (("办结率", "closure_rate"), ("按期办结率", "on_time_rate"), ("回访满意率", "satisfaction_rate")):
        rows[label] = (p[key], _pt(p[key], q[key]), _pt(p[key], y[key]))
    return rows


def _summary_numbers(summary: str, townships: list[str]) -> list[float]:
    text = re.sub(r"\s+", "", summary)
    text = re.sub(r"^\d{4}年\d{1,2}月(\d{1,2}日)?(至\d{1,2}月\d{1,2}日)?，", "", text)
    text = re.sub(r"截至[^，]*，", "", text)
    for name in sorted(townships, key=len, reverse=True):
        text = text.replace(name, "")
    return [v for v in (_value(t) for t in TOKEN.findall(text)) if v is not None]


def _expected_summary(body: dict, rows: dict[str, tuple], cases: list[Case], period: Period, rules: Rules,
                      towns: list[tuple[str, int]]) -> list[float]:
    in_period = [c for c in cases if period.start <= c.received_at < period.end]
    red = sum(1 for c in in_period if _red(c, rules))
    orange = sum(1 for c in in_period if not _red(c, rules) and (c.people_involved >= rules.orange_people
                                                                 or c.repeat_petition))
    numbers: list[float | None] = [rows["受理（件）"][0], *(abs(v) for v in rows["受理（件）"][1:] if v), rows["已办结（件）"][0],
                                   rows["办结率"][0], rows["按期办结率"][0], rows["回访满意率"][0],
                                   rows["期末在办（件）"][0], rows["期末超期（件）"][0], red, orange]
    numbers += [n for _, n in towns]
    categories: dict[str, int] = {}
    for c in in_period:
        categories[c.category] = categories.get(c.category, 0) + 1
    if categories:
        top = sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))[0][1]
        numbers += [top, round(100.0 * top / len(in_period), 2)]
    return [float(n) for n in numbers if n is not None]


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _pdf_rows(text: str) -> dict[str, list[float | None]]:
    found = {}
    for line in text.splitlines():
        for label in ROWS:
            if line.startswith(label + " "):
                rest = re.sub(r"\s+", "", line[len(label):])
                found[label] = [_value(t) for t in TOKEN.findall(rest)]
    return found


def _docx_parts(data: bytes) -> tuple[str, dict[str, list[float | None]], str]:
    document = Document(io.BytesIO(data))
    summary = next(p.text for p in document.paragraphs if "共受理矛盾纠纷" in p.text)
    table = document.tables[0]
    rows = {row.cells[0].text: [_value(TOKEN.findall(re.sub(r"\s+", "", cell.text))[0]) for cell in row.cells[1:]]
            for row in table.rows[1:]}
    everything = "\n".join([*(p.text for p in document.paragraphs),
                            *(cell.text for t in document.tables for row in t.rows for cell in row.cells)])
    return summary, rows, everything


@pytest.fixture
def api(runtime: Runtime, county: str) -> TestClient:
    client = TestClient(create_app(runtime).server)
    as_role(client, runtime, Role.leader)
    return client


def test_every_number_in_both_formats_equals_api_figures(runtime: Runtime, county: str, api: TestClient) -> None:
    now = datetime.now(UTC)
    history(runtime, now)
    period = containing(ReportKind.monthly, local_date(now))
    made = service.make(runtime, kind=ReportKind.monthly, period=period, actor="测试", role="cli")
    body = api.get("/api/figures", params={"area": county, "from": period.first.isoformat(),
                                           "to": period.last.isoformat()}).json()
    with runtime.sessions() as session:
        cases = list(session.scalars(select(Case)))
        names = panel_queries.township_names(session, county)
    towns_api = {}
    for code in names:
        town = api.get("/api/figures", params={"area": code, "from": period.first.isoformat(),
                                               "to": period.last.isoformat()})
        assert town.status_code == 200, town.text
        towns_api[code] = town.json()["period"]["received"]
    towns = [(names[c], n) for c, n in sorted(towns_api.items(), key=lambda kv: (-kv[1], kv[0])) if n > 0][:3]
    rows = _expected_rows(body, cases, period, now)
    expected_prose = _expected_summary(body, rows, cases, period, runtime.rules, towns)
    assert body["period"]["received"] > 5 and body["previous_period"]["received"] > 5, "the history fills both periods"

    summary, docx_rows, _ = _docx_parts(made.documents["docx"])
    pdf = _pdf_text(made.documents["pdf"])
    pdf_summary = pdf.split("一、总体情况", 1)[1].split("二、主要指标", 1)[0]
    for name, table in (("docx", docx_rows), ("pdf", _pdf_rows(pdf))):
        assert set(table) == set(ROWS), name
        for label in ROWS:
            assert tuple(table[label]) == rows[label], f"{name}: {label}"
    for name, prose in (("docx", summary), ("pdf", pdf_summary)):
        assert _summary_numbers(prose, list(names.values())) == expected_prose, name
        mom = rows["受理（件）"][1]
        assert ("环比上升" if mom and mom > 0 else "环比下降" if mom else "环比") in re.sub(r"\s+", "", prose)


def test_no_personal_data_in_any_report(runtime: Runtime, county: str) -> None:
    now = datetime.now(UTC)
    history(runtime, now)
    made = service.make(runtime, kind=ReportKind.daily, period=Period(local_date(now), local_date(now)),
                        actor="测试", role="cli")
    _, _, docx_text = _docx_parts(made.documents["docx"])
    pdf_text = re.sub(r"\s+", "", _pdf_text(made.documents["pdf"]))
    assert "涉及30人以上" in docx_text and "测试村" in docx_text, "the planted red case is listed, by place and reason"
    for secret in (PLANTED.party_name, PLANTED.party_phone, PLANTED.party_id_number, PLANTED.address, PLANTED_TEXT,
                   "幸福路", "12345678"):
        assert secret not in docx_text and secret not in pdf_text, secret
        assert secret.encode() not in made.documents["docx"] and secret.encode() not in made.documents["pdf"]


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_generating_again_adds_a_version_with_the_same_figures_and_issue(runtime: Runtime, county: str) -> None:
    now = datetime.now(UTC)
    history(runtime, now)
    last_month = containing(ReportKind.monthly, containing(ReportKind.monthly, local_date(now)).first - timedelta(days=1))
    before = containing(ReportKind.monthly, last_month.first - timedelta(days=1))
    first = service.make(runtime, kind=ReportKind.monthly, period=before, actor="甲", role="leader", now=now)
    second = service.make(runtime, kind=ReportKind.monthly, period=last_month, actor="甲", role="leader", now=now)
    again = service.make(runtime, kind=ReportKind.monthly, period=before, actor="乙", role="admin",
                         now=now + timedelta(minutes=5))
    assert (first.issue, first.version) == (1, 1)
    assert (second.issue, second.version) == (2, 1), "the next period of the year takes the next issue"
    assert (again.issue, again.version) == (1, 2), "the same period keeps its issue and gets a new version"
    first_rows, again_rows = _docx_parts(first.documents["docx"])[1], _docx_parts(again.documents["docx"])[1]
    assert first_rows == again_rows, "a past period gives the same figures when generated again"
    with runtime.sessions() as session:
        stored = session.scalars(select(ReportDocument).where(ReportDocument.period == first.key.period)
                                 .order_by(ReportDocument.version, ReportDocument.format)).all()
        assert [(d.version, d.format) for d in stored] == [(1, "docx"), (1, "pdf"), (2, "docx"), (2, "pdf")]
        assert stored[0].content == first.documents["docx"], "the old version is kept as it was"
        import hashlib
        assert all(d.sha256 == hashlib.sha256(d.content).hexdigest() and d.size == len(d.content) for d in stored)
        audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "report.generate")
                                 .order_by(AuditEntry.id)).all()
        assert [(a.actor, a.target) for a in audits] == [
            ("甲", f"monthly:{before.first:%Y-%m}:{county}:zh:v1"), ("甲", f"monthly:{last_month.first:%Y-%m}:{county}:zh:v1"),
            ("乙", f"monthly:{before.first:%Y-%m}:{county}:zh:v2")]


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_reports_pages_for_leaders_and_admins_only_and_downloads_are_audited(runtime: Runtime, county: str) -> None:
    now = datetime.now(UTC)
    history(runtime, now)
    made = service.make(runtime, kind=ReportKind.weekly, period=containing(ReportKind.weekly, local_date(now)),
                        lang="en", actor="测试", role="cli")
    app = create_app(runtime).server
    for role, allowed in ((Role.leader, True), (Role.admin, True), (Role.duty_officer, False), (Role.screen, False)):
        client = TestClient(app, follow_redirects=False)
        as_role(client, runtime, role, name=f"r-{role.value}")
        listing = client.get("/reports")
        download = client.get(f"/reports/{made.ids['pdf']}/download")
        if allowed:
            assert listing.status_code == 200 and made.key.period in listing.text, role
            assert '/assets/fonts/noto-sans-sc.css' in listing.text, "no system font draws the page's Chinese"
            assert download.status_code == 200 and download.content == made.documents["pdf"], role
            assert download.headers["content-type"] == "application/pdf"
        else:
            assert listing.status_code == 403 and download.status_code == 403, role
    anonymous = TestClient(app, follow_redirects=False).get("/reports")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    with runtime.sessions() as session:
        downloads = session.scalars(select(AuditEntry).where(AuditEntry.action == "report.download")).all()
    assert sorted(a.actor for a in downloads) == ["r-admin", "r-leader"]

    leader = TestClient(app)
    as_role(leader, runtime, Role.leader, name="r-leader")
    assert leader.get("/reports/999999/download").status_code == 404
    assert leader.post("/reports/make", params={"kind": "weekly", "period": "2025-W99"}).status_code == 422
    assert leader.post("/reports/make", params={"kind": "daily", "period": "2099-01-01"}).status_code == 422
    assert leader.post("/reports/make", params={"kind": "daily", "period": "2025-06-02", "area": "123"}).status_code == 404
    no_csrf = TestClient(app)
    as_role(no_csrf, runtime, Role.leader, name="r-leader")
    del no_csrf.headers["X-CSRFToken"]
    assert no_csrf.post("/reports/make", params={"kind": "weekly", "period": made.key.period}).status_code == 403
    made_there = leader.post("/reports/make", params={"kind": "weekly", "period": made.key.period, "lang": "en"})
    assert made_there.status_code == 201 and made_there.json()["version"] == 2


def _schedule(catch_up: int = 1) -> ReportSchedule:
    return ReportSchedule((KindSchedule(ReportKind.daily, time(7, 30), catch_up),), ("zh",), 60)


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_two_workers_generate_each_due_report_once(runtime: Runtime, county: str) -> None:
    now = datetime.now(UTC)
    history(runtime, now)
    barrier = threading.Barrier(2)
    results: list[schedule.RunReport] = []

    def worker() -> None:
        barrier.wait()
        results.append(schedule.run_due(runtime, now=now, schedule=_schedule()))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    made = [name for r in results for name in r.made]
    assert len(made) == 1, results
    with runtime.sessions() as session:
        assert session.scalar(select(func.count(ReportDocument.id))) == 2, "one DOCX and one PDF"
        assert session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "report.generate")) == 1
    assert schedule.run_due(runtime, now=now, schedule=_schedule()).made == [], "an archived report is not redone"


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_a_missed_run_is_made_up_at_the_next_start(runtime: Runtime, county: str) -> None:
    """The server was down for the last three mornings: the next run makes up the missing days."""
    now = datetime.now(UTC)
    today = local_date(now)
    yesterday = Period(today - timedelta(days=1), today - timedelta(days=1))
    service.make(runtime, kind=ReportKind.daily, period=Period(today - timedelta(days=4), today - timedelta(days=4)),
                 actor=schedule.ACTOR, role="system", now=now)
    due_now = datetime.combine(today, time(20, 0), LOCAL_TZ)  # past today's 07:30
    result = schedule.run_due(runtime, now=due_now, schedule=_schedule(catch_up=4))
    expected = [f"daily:{(today - timedelta(days=d)).isoformat()}:zh" for d in (3, 2, 1)]
    assert result.made == expected, "the three missing days, oldest first; the day already filed is left alone"
    assert parse_period(ReportKind.daily, yesterday.first.isoformat()) == yesterday


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_early_warnings_of_the_period_are_noted(runtime: Runtime, county: str) -> None:
    from data_access.models import AreaWarning

    now = datetime.now(UTC)
    reason = "土地山林 · 测试镇1 · 近3日9件，预期2.1件"
    with runtime.sessions() as session, session.begin():
        session.add(AreaWarning(county_code=county, area_code=f"{county}001", area_level="township", category="land",
                                window_days=3, observed=9, expected=2.1, p_value=0.0004, reason_zh=reason,
                                reason_en="Land · 测试镇1 · 9 in 3 days, 2.1 expected", first_seen=now - timedelta(hours=2),
                                last_seen=now))
    today = Period(local_date(now), local_date(now))
    made = service.make(runtime, kind=ReportKind.daily, period=today, actor="测试", role="cli")
    assert reason in _docx_parts(made.documents["docx"])[2]
    assert re.sub(r"\s+", "", reason) in re.sub(r"\s+", "", _pdf_text(made.documents["pdf"]))
    earlier = Period(today.first - timedelta(days=3), today.first - timedelta(days=3))
    before = service.make(runtime, kind=ReportKind.daily, period=earlier, actor="测试", role="cli")
    assert reason not in _docx_parts(before.documents["docx"])[2], "a warning of another period is not noted"


def test_on_demand_reports_are_rate_limited_per_person(runtime: Runtime, county: str) -> None:
    """Each report costs CPU and stays in the archive for good: beyond the hourly limit a leader's
    request is a 429 and nothing is generated."""
    now = datetime.now(UTC)
    history(runtime, now)
    period = period_name(ReportKind.daily, containing(ReportKind.daily, local_date(now) - timedelta(days=1)))
    app = create_app(runtime, security=SecurityConfig(reports=Limit(2, 3600))).server
    leader = TestClient(app)
    as_role(leader, runtime, Role.leader, name="r-busy")
    answers = [leader.post("/reports/make", params={"kind": "daily", "period": period}).status_code for _ in range(3)]
    assert answers == [201, 201, 429]
    with runtime.sessions() as session:
        kept = session.scalar(select(func.count()).select_from(ReportDocument))
    assert kept == 4, "two reports of two files each; the refused one wrote nothing"
