"""Coordinate conversions: GCJ-02 <-> WGS84, and a local equal-area projection in metres.

Geometry is kept in WGS84 everywhere; GCJ-02 appears only at the edges (Amap/Tencent data and
tiles), so these functions exist to convert once on the way in or out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

SOURCE_CRSES: tuple[str, ...] = ("wgs84", "gcj02")
GeometryOrArray = TypeVar("GeometryOrArray", BaseGeometry, np.ndarray)

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 algorithm uses it
_EE = 0.00669342162296594323
_INVERSE_TOLERANCE_DEG = 1e-10
_INVERSE_MAX_ITERATIONS = 30


def _outside_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The GCJ-02 offset is only applied inside this box; outside it the datum is plain WGS84."""
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 shift (degrees) at WGS84 positions; zero outside China."""
    x = lon - 105.0
    y = lat - 35.0
    pi = math.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    d_lat = d_lat + common
    d_lat = d_lat + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    d_lat = d_lat + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    d_lon = d_lon + common
    d_lon = d_lon + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    d_lon = d_lon + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * pi)
    outside = _outside_china(lon, lat)
    return np.where(outside, 0.0, d_lon), np.where(outside, 0.0, d_lat)


def wgs84_to_gcj02_arrays(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised forward transform, for whole geometries at once."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    d_lon, d_lat = _offset(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84_arrays(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised inverse by fixed-point iteration; the shift varies slowly, so it converges to
    well under 1e-9 degrees in a handful of steps (the usual one-step inverse is off by metres)."""
    g_lon = np.asarray(lon, dtype=float)
    g_lat = np.asarray(lat, dtype=float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(_INVERSE_MAX_ITERATIONS):
        f_lon, f_lat = wgs84_to_gcj02_arrays(w_lon, w_lat)
        e_lon, e_lat = f_lon - g_lon, f_lat - g_lat
        w_lon, w_lat = w_lon - e_lon, w_lat - e_lat
        if e_lon.size == 0 or max(np.abs(e_lon).max(), np.abs(e_lat).max()) < _INVERSE_TOLERANCE_DEG:
            break
    return w_lon, w_lat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """One WGS84 position in GCJ-02, e.g. to place a marker on Amap tiles."""
    g_lon, g_lat = wgs84_to_gcj02_arrays(np.array([lon]), np.array([lat]))
    return float(g_lon[0]), float(g_lat[0])


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """One GCJ-02 position in WGS84 (exact inverse, error below 1e-7 degrees)."""
    w_lon, w_lat = gcj02_to_wgs84_arrays(np.array([lon]), np.array([lat]))
    return float(w_lon[0]), float(w_lat[0])


def _gcj02_coords_to_wgs84(coords: np.ndarray) -> np.ndarray:
    lon, lat = gcj02_to_wgs84_arrays(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def geometry_to_wgs84(geom: BaseGeometry, crs: str) -> BaseGeometry:
    """A geometry in `crs` ("wgs84" or "gcj02") as WGS84, all vertices converted in one pass."""
    if crs == "wgs84":
        return geom
    if crs == "gcj02":
        return shapely.transform(geom, _gcj02_coords_to_wgs84)
    raise ValueError(f"unknown crs {crs!r}; expected one of {', '.join(SOURCE_CRSES)}")


@lru_cache(maxsize=16)
def _transformers(lon0: float, lat0: float) -> tuple[Transformer, Transformer]:
    laea = f"+proj=laea +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m +no_defs"
    forward = Transformer.from_crs("EPSG:4326", laea, always_xy=True)
    inverse = Transformer.from_crs(laea, "EPSG:4326", always_xy=True)
    return forward, inverse


@dataclass(frozen=True)
class LocalProjection:
    """Lambert azimuthal equal-area metres centred on a county, so that Voronoi distances and
    cell areas mean the same thing everywhere in it (degrees do not: a degree of longitude is
    ~80 km at Shulan's latitude and ~111 km north-south)."""

    lon0: float
    lat0: float

    def xy_to_metric(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = _transformers(self.lon0, self.lat0)[0].transform(lon, lat)
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def xy_to_wgs84(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lon, lat = _transformers(self.lon0, self.lat0)[1].transform(x, y)
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)

    def to_metric(self, geom: GeometryOrArray) -> GeometryOrArray:
        """A geometry (or array of geometries) from WGS84 into this projection."""
        return shapely.transform(geom, self._coords_to_metric)

    def to_wgs84(self, geom: GeometryOrArray) -> GeometryOrArray:
        """A geometry (or array of geometries) from this projection back to WGS84."""
        return shapely.transform(geom, self._coords_to_wgs84)

    def _coords_to_metric(self, coords: np.ndarray) -> np.ndarray:
        return np.column_stack(self.xy_to_metric(coords[:, 0], coords[:, 1]))

    def _coords_to_wgs84(self, coords: np.ndarray) -> np.ndarray:
        return np.column_stack(self.xy_to_wgs84(coords[:, 0], coords[:, 1]))


def local_projection_for(geom: BaseGeometry) -> LocalProjection:
    """The local projection for an area, centred on its bounding box (rounded, so the same
    outline always gives the same projection)."""
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    return LocalProjection(round((min_lon + max_lon) / 2, 3), round((min_lat + max_lat) / 2, 3))
