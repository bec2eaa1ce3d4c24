"""Which grid a reported position falls in, so a case posted with coordinates gets its grid."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


class GridLocator:
    """Point-in-grid lookup over an STR-tree of grid polygons (WGS84). A point on a border shared
    by two grids goes to the one listed first, so the answer never depends on chance."""

    def __init__(self, grids: Iterable[tuple[str, BaseGeometry]]) -> None:
        items = list(grids)
        self._codes: list[str] = [code for code, _ in items]
        self._tree = shapely.STRtree([geometry for _, geometry in items])

    @classmethod
    def from_geojson(cls, grids: Iterable[tuple[str, str]]) -> GridLocator:
        """The locator of stored grids: (code, GeoJSON geometry text) pairs, in their stored order."""
        return cls((code, shapely.from_geojson(geometry)) for code, geometry in grids)

    def __len__(self) -> int:
        return len(self._codes)

    def inner_points(self) -> dict[str, tuple[float, float]]:
        """A point inside each grid (lon, lat), to place what is known by its grid only."""
        points = shapely.point_on_surface(self._tree.geometries)
        return dict(zip(self._codes, zip(shapely.get_x(points).tolist(), shapely.get_y(points).tolist(),
                                         strict=True), strict=True))

    def locate(self, lon: float, lat: float) -> str | None:
        """The code of the grid holding (lon, lat), or None outside every grid."""
        return self.locate_many([lon], [lat])[0]

    def locate_many(
        self, lons: Sequence[float] | np.ndarray, lats: Sequence[float] | np.ndarray
    ) -> list[str | None]:
        """`locate` for many points at once (one tree query for all of them)."""
        x = np.asarray(lons, dtype=float)
        y = np.asarray(lats, dtype=float)
        if x.shape != y.shape or x.ndim != 1:
            raise ValueError("lons and lats must be one-dimensional and of equal length")
        if len(x) == 0 or not self._codes:
            return [None] * len(x)
        point_index, grid_index = self._tree.query(shapely.points(x, y), predicate="intersects")
        first = np.full(len(x), len(self._codes), dtype=np.int64)
        np.minimum.at(first, point_index, grid_index)
        return [self._codes[g] if g < len(self._codes) else None for g in first.tolist()]
