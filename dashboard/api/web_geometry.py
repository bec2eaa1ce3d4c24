"""Web geometry per county: simplified GeoJSON, compressed once (brotli and gzip), served with an ETag.

The grids layer is the largest response of a wall's first load and changes only on a county
import, so each process compresses it once, at the slowest and smallest settings.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass

import brotli
import numpy as np
import orjson
import shapely
from fastapi import Request, Response
from shapely import from_geojson
from sqlalchemy.orm import Session

from dashboard.web.compression import accepted_encodings
from data_access import areas
from geo.web import WebArea, web_geojson

GEOJSON = "application/geo+json"
LAYERS = ("grids", "villages", "townships", "centers")
TOLERANCE_M = {"grids": 30.0, "villages": 45.0, "townships": 60.0}
"""How far each layer's shapes are simplified: the finer the areas, the closer the map is zoomed in."""
PRECISION = 4
"""Decimals of a coordinate: 4 is about 11 m, finer than the 30–60 m the shapes are simplified by
and below a pixel of a county on a wall; a fifth decimal made the grids' reply about 10 % larger."""


@dataclass(frozen=True)
class GeoPayload:
    raw: bytes
    gzipped: bytes
    brotli: bytes
    """Quality 11: a third smaller than gzip for the demo's grids (64 KB against 97 KB)."""
    etag: str


def geo_response(request: Request, payload: GeoPayload) -> Response:
    """A precompressed payload as the browser takes it (brotli, else gzip, else plain), with its
    ETag; 304 when the browser already holds it."""
    headers = {"ETag": payload.etag, "Cache-Control": "public, max-age=300", "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == payload.etag:
        return Response(status_code=304, headers=headers)
    accepted = accepted_encodings(request.headers.get("accept-encoding", ""))
    if "br" in accepted:
        return Response(payload.brotli, media_type=GEOJSON, headers={**headers, "Content-Encoding": "br"})
    if "gzip" in accepted:
        return Response(payload.gzipped, media_type=GEOJSON, headers={**headers, "Content-Encoding": "gzip"})
    return Response(payload.raw, media_type=GEOJSON, headers=headers)


def geo_payload(doc: dict) -> GeoPayload:  # type: ignore[type-arg]
    raw = orjson.dumps(doc)
    return GeoPayload(raw, gzip.compress(raw, 9), brotli.compress(raw, quality=11),
                      '"' + hashlib.sha256(raw).hexdigest()[:32] + '"')


class GeometryCache:
    """Geometry changes only on a county import, so each process builds each layer once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str, str], GeoPayload] = {}

    def get(self, session: Session, county: str, layer: str) -> GeoPayload | None:
        """The layer's payload, built on the first ask after the county's (re-)import."""
        if layer not in LAYERS:
            return None
        record = areas.get_county(session, county)
        if record is None:
            return None
        stamp = record.imported_at.isoformat()
        key = (county, layer, stamp)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        doc = self._build(session, county, layer)
        payload = geo_payload(doc)
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if k[:2] != (county, layer)}
            self._cache[key] = payload
        return payload

    def _build(self, session: Session, county: str, layer: str) -> dict[str, object]:
        if layer == "centers":
            return {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "id": c.area_code,
                     "geometry": {"type": "Point", "coordinates": [round(c.lon, PRECISION), round(c.lat, PRECISION)]},
                     "properties": {"code": c.area_code, "name": c.name, "tier": c.tier}}
                    for c in areas.centers(session, county)
                ],
            }
        if layer == "villages":
            return web_geojson(village_outlines(session, county), tolerance_m=TOLERANCE_M[layer], precision=PRECISION)
        rows = areas.grid_geometries(session, county) if layer == "grids" else areas.township_geometries(session, county)
        return web_geojson([WebArea(code, name, parent, from_geojson(geom)) for code, name, parent, geom in rows],
                           tolerance_m=TOLERANCE_M[layer], precision=PRECISION)


def village_outlines(session: Session, county: str) -> list[WebArea]:
    """Each village of the county drawn as the union of its grids, so that a village's outline on
    the map is exactly the edge of the grids it opens into; a village without grids is left out."""
    grids: dict[str, list[str]] = {}
    for _, _, village, geometry in areas.grid_geometries(session, county):
        grids.setdefault(village, []).append(geometry)
    outlines = []
    for code, name, township in areas.village_rows(session, county):
        if code in grids:
            shapes = from_geojson(np.array(grids[code], dtype=object))
            union = shapely.coverage_union_all(shapes) if shapely.coverage_is_valid(shapes) else shapely.union_all(shapes)
            outlines.append(WebArea(code, name, township, shapely.make_valid(union) if not union.is_valid else union))
    return outlines
