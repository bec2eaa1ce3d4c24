"""Area layers as small GeoJSON for the map.

The wall screen loads each layer once and afterwards receives only ids and values, so the layer
must be small and every feature must carry its code as `id`. Neighbouring areas are simplified
together (`shapely.coverage_simplify`) so shared borders stay shared: simplifying each polygon
on its own opens slivers between grids that show up as hairlines on the map.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.crs import local_projection_for
from geo.generate import GeneratedArea


@dataclass(frozen=True)
class WebArea:
    """One area to draw. `geometry` is WGS84, as a shapely geometry or WKB bytes (what a database
    column usually hands back); `properties` are extra feature properties, e.g. a display label.
    `generated` says the shape was made up, not surveyed, and the map says so."""

    code: str
    name: str
    parent_code: str | None
    geometry: BaseGeometry | bytes
    properties: Mapping[str, Any] = field(default_factory=dict)
    generated: bool = True


AreaInput = Union[
    GeneratedArea,
    WebArea,
    tuple[str, str, Union[str, None], Union[BaseGeometry, bytes]],
    tuple[str, str, Union[str, None], Union[BaseGeometry, bytes], Mapping[str, Any]],
]


def as_web_area(item: AreaInput) -> WebArea:
    """Accepts a generated area, a WebArea, or a plain (code, name, parent_code, geometry[,
    properties]) row as a database query returns it."""
    if isinstance(item, WebArea):
        return item
    if isinstance(item, GeneratedArea):
        return WebArea(item.code, item.name, item.parent_code, item.geometry)
    if isinstance(item, tuple) and len(item) in (4, 5):
        code, name, parent_code, geometry = item[:4]
        properties = item[4] if len(item) == 5 else {}
        parent = None if parent_code is None else str(parent_code)
        return WebArea(str(code), str(name), parent, geometry, properties)
    raise TypeError(f"cannot draw {type(item).__name__}; expected GeneratedArea, WebArea or a 4/5-tuple")


def web_geojson(
    areas: Iterable[AreaInput], *, tolerance_m: float = 30.0, precision: int = 5
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (RFC 7946, WGS84) with `id` = code and properties code, name,
    parent_code, generated plus any extras. Shapes are simplified by about `tolerance_m` metres
    and coordinates rounded to `precision` decimals (5 is about 1 m). Serialise it with
    ``json.dumps(..., separators=(",", ":"), ensure_ascii=False)`` to keep it small."""
    rows = [as_web_area(a) for a in areas]
    if not rows:
        return {"type": "FeatureCollection", "features": []}
    geoms = np.array([_geometry(r.geometry) for r in rows], dtype=object)
    simplified = simplify_layer(geoms, tolerance_m=tolerance_m)
    oriented = shapely.orient_polygons(simplified, exterior_cw=False)
    features = []
    for row, geom in zip(rows, oriented):
        properties: dict[str, Any] = {
            "code": row.code,
            "name": row.name,
            "parent_code": row.parent_code,
            "generated": row.generated,
            **row.properties,
        }
        geometry = _geojson_geometry(geom, precision)
        features.append({"type": "Feature", "id": row.code, "properties": properties, "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}


def simplify_layer(geoms: np.ndarray, *, tolerance_m: float) -> np.ndarray:
    """Simplify WGS84 polygons by a tolerance in metres, together when they tile the plane
    without gaps or overlaps (a valid coverage), else each on its own keeping it valid."""
    if tolerance_m <= 0:
        return geoms
    projection = local_projection_for(shapely.box(*shapely.total_bounds(geoms)))
    metric = projection.to_metric(geoms)
    if _coverage_simplify_available() and shapely.coverage_is_valid(metric):
        simplified = shapely.coverage_simplify(metric, tolerance_m)
    else:
        simplified = shapely.simplify(metric, tolerance_m, preserve_topology=True)
    result: np.ndarray = projection.to_wgs84(simplified)
    return result


def _coverage_simplify_available() -> bool:
    return hasattr(shapely, "coverage_simplify") and shapely.geos_version >= (3, 12, 0)


def _geometry(value: BaseGeometry | bytes) -> BaseGeometry:
    geom = shapely.from_wkb(value) if isinstance(value, (bytes, bytearray, memoryview)) else value
    if not isinstance(geom, (Polygon, MultiPolygon)):
        kind = getattr(geom, "geom_type", type(geom).__name__)
        raise TypeError(f"only polygons can be drawn as areas, not {kind}")
    return geom


def _geojson_geometry(geom: BaseGeometry, precision: int) -> dict[str, Any]:
    polygons = [p for p in (_rings(p, precision) for p in getattr(geom, "geoms", [geom])) if p]
    if len(polygons) == 1:
        return {"type": "Polygon", "coordinates": polygons[0]}
    return {"type": "MultiPolygon", "coordinates": polygons}


def _rings(polygon: Polygon, precision: int) -> list[list[list[float]]]:
    """Rounded rings without repeated positions; rings that rounding collapses are dropped
    (identical vertices round identically, so neighbours still share their borders)."""
    rings = []
    for ring in [polygon.exterior, *polygon.interiors]:
        coords = np.round(np.asarray(ring.coords), precision)
        keep = np.ones(len(coords), dtype=bool)
        keep[1:] = np.any(coords[1:] != coords[:-1], axis=1)
        coords = coords[keep]
        if len(coords) >= 4:
            rings.append(coords.tolist())
        elif not rings:
            return []
    return rings
