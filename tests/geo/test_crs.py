"""GCJ-02 conversion: exact round trips, and agreement with the published WGS84 outline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, shape

from geo.crs import gcj02_to_wgs84, geometry_to_wgs84, local_projection_for, wgs84_to_gcj02


def _geometry(path: Path):  # type: ignore[no-untyped-def]
    return shape(json.loads(path.read_text(encoding="utf-8"))["features"][0]["geometry"])


def test_round_trip_is_exact_across_china() -> None:
    rng = np.random.default_rng(7)
    for lon, lat in zip(rng.uniform(74, 134, 300), rng.uniform(18, 53, 300)):
        back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
        assert back == pytest.approx((lon, lat), abs=1e-7)


def test_offset_is_hundreds_of_metres_in_shulan() -> None:
    lon, lat = wgs84_to_gcj02(126.94, 44.41)
    assert 0.003 < abs(lon - 126.94) + abs(lat - 44.41) < 0.02


def test_outside_china_nothing_moves() -> None:
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert gcj02_to_wgs84(-74.0, 40.7) == (-74.0, 40.7)


def test_seat_matches_its_published_gcj02_value(shulan_dir: Path) -> None:
    text = (shulan_dir / "shulan_220283_seat_wgs84.geojson").read_text(encoding="utf-8")
    feature = json.loads(text)["features"][0]
    lon, lat = gcj02_to_wgs84(*feature["properties"]["gcj02"])
    assert (lon, lat) == pytest.approx(tuple(feature["geometry"]["coordinates"]), abs=1e-6)


def test_gcj02_outline_file_converts_to_the_wgs84_file(shulan_dir: Path) -> None:
    gcj = _geometry(shulan_dir / "shulan_220283_county_gcj02.geojson")
    wgs = _geometry(shulan_dir / "shulan_220283_county_wgs84.geojson")
    converted = geometry_to_wgs84(gcj, "gcj02")
    ours, theirs = shapely.get_coordinates(converted), shapely.get_coordinates(wgs)
    assert ours.shape == theirs.shape and len(ours) > 5000
    assert np.abs(ours - theirs).max() < 1e-5


def test_wgs84_geometry_is_returned_unchanged() -> None:
    point = Point(126.9, 44.4)
    assert geometry_to_wgs84(point, "wgs84") is point


def test_unknown_crs_is_rejected() -> None:
    with pytest.raises(ValueError, match="gcj02"):
        geometry_to_wgs84(Point(126.9, 44.4), "bd09")


def test_local_projection_round_trips_and_is_in_metres() -> None:
    square = shapely.box(126.9, 44.4, 127.0, 44.5)
    projection = local_projection_for(square)
    metric = projection.to_metric(square)
    assert 85e6 < metric.area < 90e6  # ~7.95 km x 11.1 km
    back = projection.to_wgs84(metric)
    error = np.abs(shapely.get_coordinates(back) - shapely.get_coordinates(square)).max()
    assert error < 1e-7  # PROJ's ellipsoidal inverse is good to about 0.5 mm
