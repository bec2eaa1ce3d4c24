"""Names and map bounds of the areas a screen can follow (county, township, village)."""

from __future__ import annotations

from dataclasses import dataclass

from shapely import from_geojson
from sqlalchemy.orm import Session

from data_access import areas


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    bounds: list[list[float]]
    """[[south, west], [north, east]], as Leaflet wants them."""


def bounds_of(geojson: str) -> list[list[float]]:
    west, south, east, north = from_geojson(geojson).bounds
    return [[south, west], [north, east]]


def townships(session: Session, county: str) -> list[Place]:
    return [Place(code, name, bounds_of(geometry)) for code, name, _, geometry in areas.township_geometries(session, county)]

