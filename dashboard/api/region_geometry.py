"""Web geometry above the county: the children of a city (its counties) or of a province (its cities).

``GET /api/geo/region/{code}`` is the map of the tablet and the wall at city and province level.
Like the county layers (``dashboard.api.web_geometry``) it is simplified for the zoom it is shown
at, built and compressed once per process (brotli and gzip) and served with an ETag; it is built
anew only after a county or region inside it is imported again. A caller who does not see the
area is told it is not there (404), as for every area outside one's scope.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

import numpy as np
import shapely
from fastapi import APIRouter, Depends, Request, Response
from shapely import from_geojson
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from dashboard.access.scope import caller_sees
from dashboard.api.errors import ApiError
from dashboard.api.request_session import session_dependency
from dashboard.api.web_geometry import PRECISION, GeoPayload, geo_payload, geo_response
from dashboard.domain.area_scope import ScopeLevel, level_of
from dashboard.runtime import Runtime
from data_access import areas, regions
from geo.web import WebArea, web_geojson

TOLERANCE_M = {ScopeLevel.city: 120.0, ScopeLevel.province: 500.0}
"""A city of about 27,000 km² fills a tablet's map at 100–200 m a pixel, a province at 0.5–1 km:
each is simplified by about a pixel of the zoom it is first shown at."""

Stamp = tuple[tuple[str, datetime], ...]


class RegionGeometryCache:
    """One payload per city or province, kept until a county or region inside it is imported again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[Stamp, GeoPayload]] = {}

    def get(self, session: Session, code: str) -> GeoPayload | None:
        """The children of the city or province ``code``; ``None`` when it is neither, or holds no
        imported county."""
        level = level_of(code)
        if level not in TOLERANCE_M:
            return None
        stamp = tuple(regions.import_stamps(session, code))
        if not any(level_of(c) is ScopeLevel.county for c, _ in stamp):
            return None
        with self._lock:
            held = self._cache.get(code)
            if held is not None and held[0] == stamp:
                return held[1]
        payload = geo_payload(region_children(session, code))
        with self._lock:
            self._cache[code] = (stamp, payload)
        return payload


def region_children(session: Session, code: str) -> dict[str, object]:
    """The GeoJSON FeatureCollection of a city's counties or a province's cities, each with
    properties ``code`` and ``name`` only and ``id`` = code."""
    level = level_of(code)
    counties = regions.counties_in(session, code)
    if level is ScopeLevel.city:
        shapes = [WebArea(c.code, c.name, code, from_geojson(c.outline), generated=False) for c in counties]
    else:
        by_city: dict[str, list[str]] = defaultdict(list)
        for county in counties:
            by_city[county.code[:4] + "00"].append(county.outline)
        shapes = [WebArea(city, regions.area_name(session, city), code, _city_outline(session, city, outlines),
                          generated=False) for city, outlines in sorted(by_city.items())]
    doc = web_geojson(shapes, tolerance_m=TOLERANCE_M[level], precision=PRECISION)  # type: ignore[index]
    for feature in doc["features"]:
        feature["properties"] = {k: feature["properties"][k] for k in ("code", "name")}
    return doc


def _city_outline(session: Session, city: str, county_outlines: list[str]) -> BaseGeometry:
    """The city's imported outline, else the union of its counties' outlines."""
    region = regions.get_region(session, city)
    if region is not None and region.outline:
        return _polygonal(from_geojson(region.outline))
    return _polygonal(shapely.union_all(from_geojson(np.array(county_outlines, dtype=object))))


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Only the polygons of a shape (a union of outlines that touch at a point may hold lines)."""
    geom = geom if geom.is_valid else shapely.make_valid(geom)
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts)


def build_region_geometry_api(rt: Runtime, cache: RegionGeometryCache | None = None,
                              sees: Callable[[str], bool] = caller_sees) -> APIRouter:
    """The route; ``sees`` is whether the caller may see an area (``access.scope.caller_sees``)."""
    router = APIRouter(prefix="/api")
    db_session = session_dependency(rt.sessions)
    geometry = cache or RegionGeometryCache()

    @router.get("/geo/region/{code}")
    def region_geometry(code: str, request: Request, session: Session = Depends(db_session)) -> Response:
        """The children of a city (its counties) or a province (its cities) as simplified WGS84
        GeoJSON, properties ``code`` and ``name``; 404 for an area the caller does not see."""
        payload = geometry.get(session, code) if len(code) <= 12 and sees(code) else None
        if payload is None:
            return ApiError(404, "not_found", "code", "no such city or province").response()
        return geo_response(request, payload)

    return router


def area_bounds(session: Session, code: str) -> list[list[float]] | None:
    """[[south, west], [north, east]] of an area at any level (a city or province: of its counties,
    and of its own outline when imported); ``None`` when nothing of it was imported."""
    level = level_of(code)
    if level in (ScopeLevel.city, ScopeLevel.province):
        outlines = [c.outline for c in regions.counties_in(session, code)]
        region = regions.get_region(session, code)
        if region is not None and region.outline:
            outlines.append(region.outline)
    else:
        outline = areas.area_outline(session, code) if level is not None else None
        outlines = [outline] if outline else []
    if not outlines:
        return None
    west, south, east, north = shapely.total_bounds(from_geojson(np.array(outlines, dtype=object)))
    return [[float(south), float(west)], [float(north), float(east)]]
