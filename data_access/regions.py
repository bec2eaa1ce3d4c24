"""Queries over the areas above the county: cities and provinces, and the counties they hold.

A region holds the counties whose codes lie inside it by the national division codes
(``dashboard.domain.area_scope.contains``), so a county imported before its city is already
counted in it; the ``region`` row adds a name and an outline. Functions never commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.domain.area_scope import ScopeLevel, contains, level_of
from data_access.models import County, Region


def get_region(session: Session, code: str) -> Region | None:
    """The city or province with ``code``; ``None`` when none was imported."""
    return session.get(Region, code)


def list_regions(session: Session, level: str | None = None) -> list[Region]:
    """Every imported region (of ``level`` when given), by code."""
    stmt = select(Region).order_by(Region.code)
    if level is not None:
        stmt = stmt.where(Region.level == level)
    return list(session.scalars(stmt))


def county_codes(session: Session, area: str | None = None) -> list[str]:
    """The imported counties inside ``area`` (a province, city or county code; ``None``: all), by code.

    A code that names no area holds none."""
    codes = list(session.scalars(select(County.code).order_by(County.code)))
    return [c for c in codes if contains(area, c)]


def counties_in(session: Session, area: str | None = None) -> list[County]:
    """The imported counties inside ``area`` (``None``: all), by code."""
    wanted = set(county_codes(session, area))
    return [c for c in session.scalars(select(County).order_by(County.code)) if c.code in wanted]


def cities_in(session: Session, province: str) -> list[str]:
    """The city codes of a province that hold at least one imported county: a city's code is its
    counties' first four digits and ``00``, whether or not the city itself was imported."""
    if level_of(province) is not ScopeLevel.province:
        return []
    return sorted({c[:4] + "00" for c in county_codes(session, province)})


def area_name(session: Session, code: str) -> str:
    """A region's or county's name; the code itself when neither was imported (a city known only
    through its counties' codes)."""
    region = session.get(Region, code)
    if region is not None:
        return region.name
    county = session.get(County, code)
    return county.name if county is not None else code


def import_stamps(session: Session, area: str) -> list[tuple[str, datetime]]:
    """(code, imported_at) of the imported counties inside ``area`` and of the regions inside it
    (itself included), by code: what a cache of the area's geometry must be rebuilt after."""
    counties = [(c, t) for c, t in session.execute(select(County.code, County.imported_at)) if contains(area, c)]
    regions = [(c, t) for c, t in session.execute(select(Region.code, Region.imported_at)) if contains(area, c)]
    return sorted(counties + regions)
