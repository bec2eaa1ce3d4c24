"""The county's places by name, each with the one grid a case named by that place goes to.

A ledger places a case by township and village name. Such a case belongs to the village; its grid
is the village's grid that holds the village's centre point (the ``Center`` of tier village),
so every figure counts it at its village, township and county like any other case. A centre
that lies in none of its village's grids (a generated centre on a concave outline, say) gives
the village's grid nearest to it. A township named without a village goes to the grid holding
the township's centre, inside its own township. Functions never commit: the caller does.
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from data_access.models import Center, Grid, Township, Village


@dataclass(frozen=True, slots=True)
class NamedVillage:
    code: str
    name: str
    kind: str
    township_code: str
    township_name: str
    grid_code: str | None
    """The village's grid holding its centre; ``None`` for a village without grids."""


@dataclass(frozen=True, slots=True)
class NamedTownship:
    code: str
    name: str
    kind: str
    grid_code: str | None
    """The township's grid holding its centre (``None`` without grids)."""


@dataclass(frozen=True, slots=True)
class CountyPlaces:
    townships: tuple[NamedTownship, ...]
    villages: tuple[NamedVillage, ...]


def county_places(session: Session, county_code: str) -> CountyPlaces:
    """Every township and village of the county by name, each with its centre's grid."""
    townships = session.execute(
        select(Township.code, Township.name, Township.kind).where(Township.county_code == county_code)
        .order_by(Township.code)).all()
    township_names = {code: name for code, name, _ in townships}
    villages = session.execute(
        select(Village.code, Village.name, Village.kind, Village.township_code)
        .where(Village.township_code.in_(list(township_names))).order_by(Village.code)).all()
    grids = session.execute(
        select(Grid.code, Grid.village_code, Grid.geometry)
        .where(Grid.village_code.in_([v.code for v in villages])).order_by(Grid.code)).all()
    centres = {code: (lon, lat) for code, lon, lat in session.execute(
        select(Center.area_code, Center.lon, Center.lat).where(Center.county_code == county_code))}
    shapes = shapely.from_geojson([g.geometry for g in grids]) if grids else []
    by_village: dict[str, list[tuple[str, object]]] = {}
    for (code, village, _), shape in zip(grids, shapes, strict=True):
        by_village.setdefault(village, []).append((code, shape))
    township_of_village = {v.code: v.township_code for v in villages}

    def grid_at(candidates: list[tuple[str, object]], point: tuple[float, float] | None) -> str | None:
        if not candidates:
            return None
        if point is None:
            return candidates[0][0]
        where = shapely.Point(point)
        for code, shape in candidates:
            if shapely.intersects(shape, where):
                return code
        return min(candidates, key=lambda item: shapely.distance(item[1], where))[0]

    named_villages = tuple(
        NamedVillage(v.code, v.name, v.kind, v.township_code, township_names[v.township_code],
                     grid_at(by_village.get(v.code, []), centres.get(v.code)))
        for v in villages)
    by_township: dict[str, list[tuple[str, object]]] = {}
    for village_code, items in by_village.items():
        by_township.setdefault(township_of_village[village_code], []).extend(items)
    named_townships = [NamedTownship(code, name, kind, grid_at(by_township.get(code, []), centres.get(code)))
                       for code, name, kind in townships]
    return CountyPlaces(tuple(named_townships), named_villages)
