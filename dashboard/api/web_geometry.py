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
import orjson
from shapely import from_geojson
from sqlalchemy.orm import Session

from data_access import areas
from geo.web import WebArea, web_geojson

LAYERS = ("grids", "townships", "centers")
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


def _payload(doc: dict) -> GeoPayload:  # type: ignore[type-arg]
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
        payload = _payload(doc)
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
        rows = areas.grid_geometries(session, county) if layer == "grids" else areas.township_geometries(session, county)
        tolerance = 30.0 if layer == "grids" else 60.0
        return web_geojson([WebArea(code, name, parent, from_geojson(geom)) for code, name, parent, geom in rows],
                           tolerance_m=tolerance, precision=PRECISION)
