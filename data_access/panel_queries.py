"""Reads behind the wall's side panels and the tablet: per-area day counters from Redis, and the
few instant facts that SQL answers exactly (red counts, newest alerts, names)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data_access import redis_keys as keys
from data_access.models import Case, Township, Village

ALERT_LEVELS_ON_TICKER = ("red", "orange")


def area_day_counters(
    client: redis.Redis, county: str, areas: Sequence[str], day_keys: Sequence[str], figures: Sequence[str]
) -> dict[str, dict[str, dict[str, int]]]:
    """``area → day → figure → count`` for many areas at once, in one round trip."""
    with client.pipeline(transaction=False) as pipe:
        for area in areas:
            for day in day_keys:
                pipe.hmget(keys.day(county, day), [f"{area}:{f}" for f in figures])
        rows = iter(pipe.execute())
    out: dict[str, dict[str, dict[str, int]]] = {}
    for area in areas:
        per_day = out.setdefault(area, {})
        for day in day_keys:
            values = next(rows)
            per_day[day] = {f: int(v) for f, v in zip(figures, values, strict=True) if v is not None}
    return out


def township_names(session: Session, county: str) -> dict[str, str]:
    stmt = select(Township.code, Township.name).where(Township.county_code == county).order_by(Township.code)
    return dict(session.execute(stmt).all())


def village_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    codes = list(set(codes))
    if not codes:
        return {}
    return dict(session.execute(select(Village.code, Village.name).where(Village.code.in_(codes))).all())


def red_by_township(session: Session, county: str) -> dict[str, int]:
    """Open red cases per township. Red comes only from a case's facts (people, risks,
    petitions), never from the clock, so the level stored at the last change is exact."""
    stmt = (
        select(Case.township_code, func.count(Case.id))
        .where(Case.county_code == county, Case.resolved_at.is_(None), Case.alert_level == "red")
        .group_by(Case.township_code)
    )
    return dict(session.execute(stmt).all())


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
        .where(Case.county_code == county, Case.resolved_at.is_(None), Case.alert_level.in_(ALERT_LEVELS_ON_TICKER))
        .order_by((Case.alert_level == "red").desc(), Case.updated_at.desc(), Case.id.desc())
        .limit(limit)
    )
    if township:
        stmt = stmt.where(Case.township_code == township)
    return [AlertRow(*row) for row in session.execute(stmt)]
