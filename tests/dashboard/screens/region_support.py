"""A small city for roll-up tests: the test county 990101 and its neighbours under other codes,
imported through the real onboarding, with histories of their own written through each
county's write path; plus the plain SQL every region figure must equal."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from dashboard.domain.figures import InstantCounts, PeriodCounts
from dashboard.domain.vocabulary import Action, Satisfaction, Source
from dashboard.imports import onboarding
from dashboard.runtime import Runtime
from data_access.figure_queries import _count_if, period_columns
from data_access.models import Case, Region
from tests.factories import COUNTY, draft, hours, small_county_at

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
CITY = "990100"
PROVINCE = "990000"
NEIGHBOURS = {"990102": 1.0, "990103": 2.0}
"""The city's other counties and how far east (degrees) each lies from the test county."""
ELSEWHERE = "990201"
"""A county of the same province in another city (990200): never part of city 990100."""


moved_county = small_county_at


def outline(xoff: float) -> str:
    west, east = 127 + xoff, 127.8 + xoff
    return f'{{"type":"Polygon","coordinates":[[[{west},44],[{east},44],[{east},44.2],[{west},44.2],[{west},44]]]}}'


def import_city(rt: Runtime, *, elsewhere: bool = True, region_rows: bool = True) -> list[str]:
    """Import the neighbours (and the county of another city), name the city and province; the
    test county itself comes from the ``county`` fixture. Returns the city's counties."""
    extra = dict(NEIGHBOURS)
    if elsewhere:
        extra[ELSEWHERE] = 4.0
    with rt.sessions() as session, session.begin():
        for code, xoff in extra.items():
            onboarding.save_county(session, moved_county(code, xoff), name=f"县{code}", now=NOW, outline_geojson=outline(xoff))
        if region_rows:
            session.add(Region(code=PROVINCE, name="测试省", level="province", parent_code=None, outline=None, imported_at=NOW))
            session.add(Region(code=CITY, name="测试市", level="city", parent_code=PROVINCE, outline=None, imported_at=NOW))
    return [COUNTY, *NEIGHBOURS]


def _walk_to_resolved(rt: Runtime, county: str, case_id: int, start: datetime, *, satisfied: bool | None) -> None:
    service = rt.case_service(county)
    for step, action in enumerate((Action.assess, Action.dispatch, Action.mediate, Action.resolve), start=1):
        service.act(case_id, action, actor="调解员", at=start + hours(step))
    if satisfied is not None:
        service.act(case_id, Action.follow_up, actor="回访员", at=start + hours(6),
                    satisfaction=Satisfaction.satisfied if satisfied else Satisfaction.dissatisfied)


def history(rt: Runtime, county: str, *, cases: int, seed: int) -> None:
    """About ``cases`` cases over the last forty days (and a few a year back) in ``county``:
    closed (some followed up), open, overdue, red; each county's mix differs with ``seed``."""
    service = rt.case_service(county)
    for n in range(cases):
        received = NOW - timedelta(days=40) + timedelta(hours=960 * n / cases + seed)
        if n % 7 == seed % 7:
            received -= timedelta(days=365)
        if received >= NOW:
            break
        facts: dict[str, object] = {}
        if (n + seed) % 13 == 0:
            facts["people_involved"] = 35
        if (n + seed) % 11 == 0:
            facts["source"] = Source.petition
        base = draft(n, received, **facts)
        grid = county + base.grid_code[len(COUNTY):]
        case, created = service.submit(replace(base, grid_code=grid, external_ref=f"{county}-{n}"), actor="窗口", now=NOW)
        assert created
        if (n + seed) % 3 != 0 and received + hours(8) < NOW:
            _walk_to_resolved(rt, county, case.id, received, satisfied=(n % 2 == 0) if (n + seed) % 5 else None)


def sql_period(session: Session, counties: list[str], start: datetime, end: datetime) -> PeriodCounts:
    """The period figures as one plain query over every case of ``counties``."""
    columns = period_columns()
    row = session.execute(select(*(c.label(n) for n, c in columns.items())).where(
        Case.county_code.in_(counties), Case.received_at >= start, Case.received_at < end)).one()
    return PeriodCounts(**{n: int(row._mapping[n]) for n in columns})


def sql_instant(session: Session, counties: list[str], now: datetime) -> InstantCounts:
    """Open, overdue and red cases of ``counties`` at ``now`` as one plain query."""
    opened, overdue, red = session.execute(select(
        func.count(Case.id), _count_if(Case.due_at < now), _count_if(Case.alert_level == "red"),
    ).where(and_(Case.county_code.in_(counties), Case.resolved_at.is_(None)))).one()
    return InstantCounts(int(opened), int(overdue), int(red))
