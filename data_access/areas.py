"""Queries over the county's areas and centres. Functions never commit: the caller does."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data_access.models import Base, Center, County, Grid, Township, Village


def upsert(session: Session, model: type[Base], rows: Iterable[dict[str, Any]], *, key: str) -> int:
    """Insert new rows and update existing ones by ``key``; re-running an import never duplicates."""
    rows = list(rows)
    column = getattr(model, key)
    existing = {
        getattr(obj, key): obj
        for obj in session.scalars(select(model).where(column.in_([r[key] for r in rows])))
    }
    for row in rows:
        obj = existing.get(row[key])
        if obj is None:
            session.add(model(**row))
        else:
            for name, value in row.items():
                setattr(obj, name, value)
    session.flush()
    return len(rows)


def get_county(session: Session, code: str | None = None) -> County | None:
    """The county with ``code``, or the first one imported when no code is configured."""
    if code:
        return session.get(County, code)
    return session.scalars(select(County).order_by(County.code).limit(1)).first()


def county_stamps(session: Session) -> dict[str, Any]:
    """When each imported county was last imported (``imported_at``), by code: a cache of a county's
    geometry is stale once this changes. Reads no outline."""
    return {code: stamp for code, stamp in session.execute(select(County.code, County.imported_at))}


@dataclass(frozen=True)
class GridPlace:
    """Where a grid sits in the hierarchy; every case write needs it."""

    grid_code: str
    village_code: str
    township_code: str
    county_code: str


def grid_places(session: Session, county_code: str) -> dict[str, GridPlace]:
    stmt = (
        select(Grid.code, Village.code, Township.code, Township.county_code)
        .join(Village, Grid.village_code == Village.code)
        .join(Township, Village.township_code == Township.code)
        .where(Township.county_code == county_code)
    )
    return {g: GridPlace(g, v, t, c) for g, v, t, c in session.execute(stmt)}


def grid_geometries(session: Session, county_code: str) -> list[tuple[str, str, str, str]]:
    """(code, name, village_code, GeoJSON geometry) of every grid of the county."""
    stmt = (
        select(Grid.code, Grid.name, Grid.village_code, Grid.geometry)
        .join(Village, Grid.village_code == Village.code)
        .join(Township, Village.township_code == Township.code)
        .where(Township.county_code == county_code)
        .order_by(Grid.code)
    )
    return [tuple(row) for row in session.execute(stmt)]  # type: ignore[misc]


def township_geometries(session: Session, county_code: str) -> list[tuple[str, str, str, str]]:
    stmt = (
        select(Township.code, Township.name, Township.county_code, Township.geometry)
        .where(Township.county_code == county_code)
        .order_by(Township.code)
    )
    return [tuple(row) for row in session.execute(stmt)]  # type: ignore[misc]


def centers(session: Session, county_code: str) -> Sequence[Center]:
    return session.scalars(select(Center).where(Center.county_code == county_code).order_by(Center.id)).all()


def count_rows(session: Session, county_code: str) -> dict[str, int]:
    """How many townships, villages, grids and centres the county has (ops status)."""
    townships = select(Township.code).where(Township.county_code == county_code)
    villages = select(Village.code).where(Village.township_code.in_(townships))
    return {
        "townships": session.scalar(select(func.count()).select_from(townships.subquery())) or 0,
        "villages": session.scalar(select(func.count()).select_from(villages.subquery())) or 0,
        "grids": session.scalar(select(func.count(Grid.code)).where(Grid.village_code.in_(villages))) or 0,
        "centers": session.scalar(select(func.count(Center.id)).where(Center.county_code == county_code)) or 0,
    }


def area_exists(session: Session, county_code: str, code: str) -> bool:
    """Whether ``code`` is the county itself or one of its townships, villages or grids."""
    if code == county_code:
        return True
    if session.scalar(select(func.count()).select_from(Township).where(Township.code == code, Township.county_code == county_code)):
        return True
    if session.scalar(
        select(func.count()).select_from(Village).join(Township, Village.township_code == Township.code)
        .where(Village.code == code, Township.county_code == county_code)
    ):
        return True
    return bool(session.scalar(
        select(func.count()).select_from(Grid).join(Village, Grid.village_code == Village.code)
        .join(Township, Village.township_code == Township.code)
        .where(Grid.code == code, Township.county_code == county_code)
    ))


def village_rows(session: Session, county_code: str) -> list[tuple[str, str, str]]:
    """(code, name, township_code) of every village of the county, by code (its outline on the map
    is the union of its grids: ``dashboard.api.web_geometry``)."""
    stmt = (
        select(Village.code, Village.name, Village.township_code)
        .join(Township, Village.township_code == Township.code)
        .where(Township.county_code == county_code)
        .order_by(Village.code)
    )
    return [tuple(row) for row in session.execute(stmt)]  # type: ignore[misc]


def area_outline(session: Session, code: str) -> str | None:
    """The GeoJSON outline of a county, township, village or grid with ``code``; ``None`` when there is none."""
    for model, column in ((County, County.outline), (Township, Township.geometry), (Village, Village.geometry),
                          (Grid, Grid.geometry)):
        outline = session.scalar(select(column).where(model.code == code))
        if outline is not None:
            return outline
    return None
