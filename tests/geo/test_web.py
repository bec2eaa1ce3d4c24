"""Web layers: valid, compact GeoJSON whose simplified grids still fit together."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, box, shape

from geo.generate import GeneratedCounty
from geo.web import WebArea, as_web_area, web_geojson


@pytest.fixture(scope="module")
def grid_layer(shulan: GeneratedCounty) -> dict:
    return web_geojson(shulan.grids)


def _positions(geometry: dict) -> list[list[list[float]]]:
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [ring for polygon in polygons for ring in polygon]


def test_grid_layer_is_a_feature_collection_with_ids(grid_layer: dict, shulan: GeneratedCounty) -> None:
    assert grid_layer["type"] == "FeatureCollection"
    features = grid_layer["features"]
    assert [f["id"] for f in features] == [g.code for g in shulan.grids]
    for feature, grid in zip(features, shulan.grids):
        assert feature["type"] == "Feature"
        assert feature["properties"] == {
            "code": grid.code,
            "name": grid.name,
            "parent_code": grid.parent_code,
            "generated": True,
        }
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_rings_are_closed_rounded_and_counter_clockwise(grid_layer: dict) -> None:
    for feature in grid_layer["features"]:
        for ring in _positions(feature["geometry"]):
            assert len(ring) >= 4 and ring[0] == ring[-1]
            assert all(round(value, 5) == value for position in ring for value in position)
        exterior = shapely.LinearRing(_positions(feature["geometry"])[0])
        assert exterior.is_ccw  # RFC 7946 right-hand rule


def test_simplified_grids_still_tile_the_county(grid_layer: dict, shulan: GeneratedCounty) -> None:
    shapes = np.array([shape(f["geometry"]) for f in grid_layer["features"]], dtype=object)
    assert all(s.is_valid for s in shapes)
    assert shapely.coverage_is_valid(shapes)  # shared borders stayed shared: no slivers, no gaps
    original = shapely.union_all([g.geometry for g in shulan.grids]).area
    assert abs(shapely.union_all(shapes).area - original) < 1e-3 * original


def test_grid_layer_is_small(grid_layer: dict, shulan: GeneratedCounty) -> None:
    raw = json.dumps(grid_layer, separators=(",", ":"), ensure_ascii=False).encode()
    packed = gzip.compress(raw)
    print(f"grid layer: {len(shulan.grids)} grids, {len(raw):,} bytes raw, {len(packed):,} bytes gzip")
    assert len(raw) < 800_000
    assert len(packed) < 150_000
    unsimplified = sum(len(shapely.get_coordinates(g.geometry)) for g in shulan.grids)
    simplified = sum(len(ring) for f in grid_layer["features"] for ring in _positions(f["geometry"]))
    assert simplified < 0.9 * unsimplified


def test_plain_rows_from_a_database() -> None:
    left, right = box(126.90, 44.40, 126.95, 44.45), box(126.95, 44.40, 127.00, 44.45)
    layer = web_geojson(
        [
            ("a", "甲网格", "v1", left),
            ("b", "乙网格", None, right.wkb, {"households": 310}),
        ]
    )
    first, second = layer["features"]
    assert first["id"] == "a" and first["properties"]["parent_code"] == "v1"
    assert second["properties"] == {
        "code": "b",
        "name": "乙网格",
        "parent_code": None,
        "generated": True,
        "households": 310,
    }
    assert shape(second["geometry"]).equals(right)


def test_web_area_can_say_it_was_surveyed() -> None:
    area = WebArea("t1", "甲镇", None, box(126.9, 44.4, 127.0, 44.5), generated=False)
    assert web_geojson([area])["features"][0]["properties"]["generated"] is False
    assert as_web_area(area) is area


def test_no_simplification_keeps_every_vertex() -> None:
    circle = Point(126.9, 44.4).buffer(0.01, quad_segs=32)
    layer = web_geojson([("c", "圆", None, circle)], tolerance_m=0)
    assert len(layer["features"][0]["geometry"]["coordinates"][0]) == len(circle.exterior.coords)
    simplified = web_geojson([("c", "圆", None, circle)], tolerance_m=30)
    assert len(simplified["features"][0]["geometry"]["coordinates"][0]) < len(circle.exterior.coords)


def test_empty_and_wrong_inputs() -> None:
    assert web_geojson([]) == {"type": "FeatureCollection", "features": []}
    with pytest.raises(TypeError, match="only polygons"):
        web_geojson([("p", "点", None, Point(126.9, 44.4))])
    with pytest.raises(TypeError, match="4/5-tuple"):
        web_geojson([("too", "short")])  # type: ignore[list-item]
