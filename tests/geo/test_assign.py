"""Point-to-grid lookup."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import box

from geo.assign import GridLocator
from geo.generate import GeneratedCounty


def test_every_grid_is_found_at_its_own_inner_point(shulan: GeneratedCounty) -> None:
    locator = GridLocator((g.code, g.geometry) for g in shulan.grids)
    assert len(locator) == len(shulan.grids)
    points = shapely.point_on_surface([g.geometry for g in shulan.grids])
    found = locator.locate_many(shapely.get_x(points), shapely.get_y(points))
    assert found == [g.code for g in shulan.grids]
    first = shulan.grids[0]
    assert locator.locate(first.center.x, first.center.y) == first.code


def test_points_outside_every_grid(shulan: GeneratedCounty) -> None:
    locator = GridLocator((g.code, g.geometry) for g in shulan.grids)
    assert locator.locate(116.39, 39.91) is None  # Beijing
    assert locator.locate(0.0, 0.0) is None
    assert locator.locate_many([116.39, shulan.seat.x, float("nan")], [39.91, shulan.seat.y, 44.4]) == [
        None,
        next(g.code for g in shulan.grids if g.geometry.covers(shulan.seat)),
        None,
    ]
    assert locator.locate_many(np.array([]), np.array([])) == []


def test_a_point_on_a_shared_border_goes_to_the_first_grid_listed() -> None:
    left, right = box(0, 0, 1, 1), box(1, 0, 2, 1)
    assert GridLocator([("L", left), ("R", right)]).locate(1.0, 0.5) == "L"
    assert GridLocator([("R", right), ("L", left)]).locate(1.0, 0.5) == "R"


def test_an_empty_locator_finds_nothing() -> None:
    assert GridLocator([]).locate(126.9, 44.4) is None


def test_stored_grids_are_read_from_geojson_in_their_order() -> None:
    left, right = box(0, 0, 1, 1), box(1, 0, 2, 1)
    locator = GridLocator.from_geojson([("L", shapely.to_geojson(left)), ("R", shapely.to_geojson(right))])
    assert (len(locator), locator.locate(0.5, 0.5), locator.locate(1.5, 0.5), locator.locate(1.0, 0.5)) == \
        (2, "L", "R", "L")


def test_each_inner_point_lies_in_its_own_grid(shulan: GeneratedCounty) -> None:
    locator = GridLocator((g.code, g.geometry) for g in shulan.grids)
    points = locator.inner_points()
    assert list(points) == [g.code for g in shulan.grids]
    assert [locator.locate(*points[g.code]) for g in shulan.grids] == [g.code for g in shulan.grids]
    assert GridLocator([]).inner_points() == {}
