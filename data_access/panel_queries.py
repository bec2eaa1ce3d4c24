"""Reads behind the wall's side panels and the tablet: per-area day counters from Redis, and the
few instant facts that SQL answers exactly (red counts, newest alerts, names)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.domain.areas import CHILD_LEVEL, AreaRef
from dashboard.domain.tablet_view import CaseLine
from data_access import aggregates
from data_access.figure_queries import AREA_COLUMNS
from data_access.matters import not_led
from data_access.models import Case, County, Grid, Township, Village

ALERT_LEVELS_ON_TICKER = ("red", "orange")


def area_day_counters(
    client: redis.Redis, county: str, areas: Sequence[str], day_keys: Sequence[str], figures: Sequence[str]
) -> dict[str, dict[str, dict[str, int]]]:
    """``area → day → "{area}:{figure}" → count`` for a few areas (a township's villages, the league)."""
    return {area: aggregates.read_area_days(client, county, area, day_keys, list(figures)) for area in areas}


def township_names(session: Session, county: str) -> dict[str, str]:
    stmt = select(Township.code, Township.name).where(Township.county_code == county).order_by(Township.code)
    return dict(session.execute(stmt).all())


def village_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    codes = list(set(codes))
    if not codes:
        return {}
    return dict(session.execute(select(Village.code, Village.name).where(Village.code.in_(codes))).all())


def red_by_area(session: Session, county: str, level: str, *, within: tuple[str, str] | None = None) -> dict[str, int]:
    """Open red cases per area of ``level``. Red comes only from a case's facts (people, risks,
    petitions), never from the clock, so the level stored at the last change is exact. A matter
    counts once: only its leading case (``matters.not_led``)."""
    column = AREA_COLUMNS[level]
    stmt = (
        select(column, func.count(Case.id))
        .where(Case.county_code == county, Case.resolved_at.is_(None), Case.alert_level == "red", not_led())
        .group_by(column)
    )
    if within is not None:
        stmt = stmt.where(AREA_COLUMNS[within[0]] == within[1])
    return dict(session.execute(stmt).all())


def area_path(session: Session, county: str, code: str) -> list[AreaRef]:
    """County → … → ``code``, for the breadcrumb; empty when ``code`` is not in ``county``."""
    county_row = session.get(County, county)
    if county_row is None:
        return []
    path = [AreaRef(county_row.code, county_row.name, "county")]
    if code == county:
        return path
    grid = session.get(Grid, code)
    village = session.get(Village, grid.village_code if grid else code)
    township = session.get(Township, village.township_code if village else code)
    if township is None or township.county_code != county:
        return []
    path.append(AreaRef(township.code, township.name, "township"))
    if village is not None:
        path.append(AreaRef(village.code, village.name, "village"))
    if grid is not None:
        path.append(AreaRef(grid.code, grid.name, "grid"))
    if path[-1].code != code:
        return []
    return path


def children(session: Session, area: AreaRef) -> list[AreaRef]:
    """The areas one level below ``area`` (none below a grid)."""
    if area.level == "county":
        stmt = select(Township.code, Township.name).where(Township.county_code == area.code)
    elif area.level == "township":
        stmt = select(Village.code, Village.name).where(Village.township_code == area.code)
    elif area.level == "village":
        stmt = select(Grid.code, Grid.name).where(Grid.village_code == area.code)
    else:
        return []
    level = CHILD_LEVEL[area.level]
    return [AreaRef(code, name, level) for code, name in session.execute(stmt.order_by(stmt.selected_columns[0]))]


def kinds_of(session: Session, areas: list[AreaRef]) -> dict[str, str]:
    """The onboarded kind of each township or village among ``areas`` (街道/镇/乡/other;
    社区/村/other), by code; counties and grids have none."""
    kinds: dict[str, str] = {}
    for level, model in (("township", Township), ("village", Village)):
        codes = [a.code for a in areas if a.level == level]
        for start in range(0, len(codes), 1000):
            chunk = codes[start : start + 1000]
            kinds.update((code, kind) for code, kind in session.execute(select(model.code, model.kind).where(model.code.in_(chunk))))
    return kinds


def cases_in(
    session: Session, county: str, area: AreaRef, *, start: datetime, end: datetime, limit: int = 50
) -> tuple[int, list[CaseLine]]:
    """Cases received in ``[start, end)`` in ``area``: how many, and the newest ``limit``."""
    where = [Case.county_code == county, Case.received_at >= start, Case.received_at < end]
    if area.level != "county":
        where.append(AREA_COLUMNS[area.level] == area.code)
    total = session.scalar(select(func.count(Case.id)).where(*where)) or 0
    rows = session.execute(
        select(*_LINE_COLUMNS).where(*where).order_by(Case.received_at.desc(), Case.id.desc()).limit(limit)
    )
    return total, [CaseLine(*row) for row in rows]


_LINE_COLUMNS = (Case.id, Case.received_at, Case.category, Case.source, Case.status, Case.tier, Case.alert_level,
                 Case.alert_reasons, Case.grid_code, Case.due_at, Case.resolved_at, Case.supervised,
                 Case.acknowledged_at, Case.acknowledged_by)


@dataclass(frozen=True)
class AlertRow:
    case_id: int
    updated_at: datetime
    level: str
    reasons: str
    township_code: str
    village_code: str
    category: str
    people_involved: int


def newest_alerts(session: Session, county: str, *, township: str | None = None, limit: int = 6) -> list[AlertRow]:
    """Open red and orange cases: red first, then most recently changed (no personal fields)."""
    stmt = (
        select(Case.id, Case.updated_at, Case.alert_level, Case.alert_reasons, Case.township_code, Case.village_code,
               Case.category, Case.people_involved)
        .where(Case.county_code == county, Case.resolved_at.is_(None), Case.alert_level.in_(ALERT_LEVELS_ON_TICKER),
               not_led())
        .order_by((Case.alert_level == "red").desc(), Case.updated_at.desc(), Case.id.desc())
        .limit(limit)
    )
    if township:
        stmt = stmt.where(Case.township_code == township)
    return [AlertRow(*row) for row in session.execute(stmt)]
