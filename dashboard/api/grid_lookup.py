"""The county's grids for the APIs: which grid holds a reported point, and a point inside each grid.

One :class:`geo.assign.GridLocator` per county, built from the stored grid polygons on first use
and built again after the county is imported anew (its ``imported_at`` changes). Both the ingest
API and Open311 use the same instance, so a process loads the polygons once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from data_access import areas
from geo.assign import GridLocator

POINT_DECIMALS = 6
"""Decimals of a grid's inner point (about 0.1 m): enough to place a case, short to send."""


@dataclass
class _CountyGrids:
    stamp: str
    locator: GridLocator
    points: dict[str, tuple[float, float]] | None = field(default=None)


class GridLookup:
    """A per-county cache of grid locators, checked against the county's import stamp on each use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counties: dict[str, _CountyGrids] = {}

    def _grids(self, session: Session, county: str) -> _CountyGrids:
        record = areas.get_county(session, county)
        stamp = record.imported_at.isoformat() if record else ""
        with self._lock:
            known = self._counties.get(county)
            if known is None or known.stamp != stamp:
                rows = areas.grid_geometries(session, county)
                known = _CountyGrids(stamp, GridLocator.from_geojson((code, geom) for code, _, _, geom in rows))
                self._counties[county] = known
            return known

    def locate(self, session: Session, county: str, lon: float, lat: float) -> str | None:
        """The grid of ``county`` that holds (lon, lat), or ``None`` outside every grid."""
        return self._grids(session, county).locator.locate(lon, lat)

    def points(self, session: Session, county: str) -> dict[str, tuple[float, float]]:
        """A point (lon, lat) inside each grid, for cases reported by grid code only."""
        grids = self._grids(session, county)
        with self._lock:
            if grids.points is None:
                grids.points = {code: (round(lon, POINT_DECIMALS), round(lat, POINT_DECIMALS))
                                for code, (lon, lat) in grids.locator.inner_points().items()}
            return grids.points
