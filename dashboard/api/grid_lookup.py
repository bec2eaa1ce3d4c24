"""The served counties' grids for the APIs: which county and grid hold a reported point, and a
point inside each grid.

One :class:`geo.assign.GridLocator` per county, built from the stored grid polygons on first use
and built again after the county is imported anew (its ``imported_at`` changes). Both the ingest
API and Open311 use the same instance, so a process loads each county's polygons once.

A deployment serving a city or a province locates a point among many counties without loading
every county's grids: each county's outline bounds (read once per import, kept beside the
locator) pick the few counties that may hold the point, and only their grids are searched.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import shapely
from sqlalchemy.orm import Session

from dashboard.domain.errors import FieldError
from data_access import areas
from geo.assign import GridLocator

POINT_DECIMALS = 6
"""Decimals of a grid's inner point (about 0.1 m): enough to place a case, short to send."""
BOUNDS_MARGIN = 0.01
"""Degrees (about 1 km) added around a county's outline bounds: a grid drawn a little over the
outline's edge still has its county searched."""

Bounds = tuple[float, float, float, float]


@dataclass
class _CountyGrids:
    stamp: str
    locator: GridLocator
    points: dict[str, tuple[float, float]] | None = field(default=None)


@dataclass(frozen=True)
class Placed:
    """Where a reported case belongs: its county and its grid."""

    county: str
    grid: str


def _stamp(value: object) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")


class GridLookup:
    """A per-county cache of grid locators and outline bounds, checked against the county's import
    stamp on each use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counties: dict[str, _CountyGrids] = {}
        self._bounds: dict[str, tuple[str, Bounds | None]] = {}

    def _grids(self, session: Session, county: str, stamp: str | None = None) -> _CountyGrids:
        if stamp is None:
            record = areas.get_county(session, county)
            stamp = record.imported_at.isoformat() if record else ""
        with self._lock:
            known = self._counties.get(county)
            if known is None or known.stamp != stamp:
                rows = areas.grid_geometries(session, county)
                known = _CountyGrids(stamp, GridLocator.from_geojson((code, geom) for code, _, _, geom in rows))
                self._counties[county] = known
            return known

    def _county_bounds(self, session: Session, county: str, stamp: str) -> Bounds | None:
        """The county outline's bounds widened by ``BOUNDS_MARGIN``; ``None`` (search it always)
        when the outline cannot be read."""
        with self._lock:
            known = self._bounds.get(county)
            if known is not None and known[0] == stamp:
                return known[1]
        record = areas.get_county(session, county)
        bounds: Bounds | None = None
        if record is not None and record.outline:
            try:
                x0, y0, x1, y1 = shapely.from_geojson(record.outline).bounds
                if all(v == v for v in (x0, y0, x1, y1)):  # an empty geometry has NaN bounds
                    bounds = (x0 - BOUNDS_MARGIN, y0 - BOUNDS_MARGIN, x1 + BOUNDS_MARGIN, y1 + BOUNDS_MARGIN)
            except (shapely.errors.GEOSException, ValueError, TypeError):
                bounds = None
        with self._lock:
            self._bounds[county] = (stamp, bounds)
        return bounds

    def locate(self, session: Session, county: str, lon: float, lat: float) -> str | None:
        """The grid of ``county`` that holds (lon, lat), or ``None`` outside every grid."""
        return self._grids(session, county).locator.locate(lon, lat)

    def locate_among(self, session: Session, counties: Sequence[str], lon: float, lat: float) -> Placed | None:
        """The county among ``counties`` and its grid holding (lon, lat), or ``None`` outside them all.

        Only counties whose outline bounds hold the point are searched, in code order (a point on a
        border two counties share goes to the first, so the answer never depends on chance)."""
        if len(counties) == 1:
            grid = self.locate(session, counties[0], lon, lat)
            return Placed(counties[0], grid) if grid is not None else None
        stamps = areas.county_stamps(session)
        for county in sorted(counties):
            if county not in stamps:
                continue
            stamp = _stamp(stamps[county])
            bounds = self._county_bounds(session, county, stamp)
            if bounds is not None and not (bounds[0] <= lon <= bounds[2] and bounds[1] <= lat <= bounds[3]):
                continue
            grid = self._grids(session, county, stamp).locator.locate(lon, lat)
            if grid is not None:
                return Placed(county, grid)
        return None

    def place(self, session: Session, counties: Sequence[str], *, grid_code: str | None,
              lon: float | None, lat: float | None) -> Placed:
        """The county and grid of a reported case among ``counties`` (the served counties the
        reporter may write to), from its grid code (a county's grids start with its code) or its
        position; a position and a grid code must agree.

        Raises ``FieldError``: ``outside_county`` (field ``location``) for a point outside every
        grid of ``counties``, ``location_mismatch`` when the point lies in another grid than the one
        named, and ``invalid`` (field ``grid_code``) for a grid code of no county in ``counties``."""
        if lon is not None and lat is not None:
            placed = self.locate_among(session, counties, lon, lat)
            if placed is None:
                where = "the county" if len(counties) == 1 else "the counties served for you"
                raise FieldError("location", f"the point lies outside every grid of {where}", code="outside_county")
            if grid_code is not None and grid_code != placed.grid:
                raise FieldError("location.grid_code", f"the point lies in grid {placed.grid}",
                                 code="location_mismatch")
            return placed
        if grid_code is None:
            raise FieldError("location", "give grid_code or lon and lat")
        county = grid_code[:6]
        if county not in counties:
            where = f"county {counties[0]}" if len(counties) == 1 else "the counties served for you"
            raise FieldError("grid_code", f"no grid {grid_code!r} in {where}")
        return Placed(county, grid_code)

    def points(self, session: Session, county: str) -> dict[str, tuple[float, float]]:
        """A point (lon, lat) inside each grid, for cases reported by grid code only."""
        grids = self._grids(session, county)
        with self._lock:
            if grids.points is None:
                grids.points = {code: (round(lon, POINT_DECIMALS), round(lat, POINT_DECIMALS))
                                for code, (lon, lat) in grids.locator.inner_points().items()}
            return grids.points
