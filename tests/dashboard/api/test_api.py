"""Read API against both backends: status, and geometry with gzip and ETag."""

from __future__ import annotations

import gzip

import orjson
from fastapi.testclient import TestClient

from dashboard.access.auth import Role
from dashboard.runtime import Runtime
from app import create_app
from tests.dashboard.auth_support import as_role


def _client(rt: Runtime) -> TestClient:
    """As a signed-in leader: geometry is for the screens (and source systems), not for anyone."""
    client = TestClient(create_app(rt).server)
    as_role(client, rt, Role.leader)
    return client


def test_status_reports_both_services_and_counts(runtime: Runtime, county: str) -> None:
    body = _client(runtime).get("/api/status").json()
    assert body["database"] is True and body["redis"] is True
    assert body["county"]["code"] == county
    assert body["counts"] == {"townships": 2, "villages": 4, "grids": 8, "centers": 7, "cases": 0}


def test_status_tells_an_anonymous_caller_only_whether_the_app_is_healthy(runtime: Runtime, county: str) -> None:
    """Health checks (and tests/serving.py) need a 200 without signing in; case counts are for signed-in roles."""
    response = TestClient(create_app(runtime).server).get("/api/status")
    assert response.status_code == 200
    assert set(response.json()) == {"version", "database", "redis"}
    assert response.json()["database"] is True and response.json()["redis"] is True


def test_grid_geometry_is_gzipped_cached_and_marked_generated(runtime: Runtime, county: str) -> None:
    client = _client(runtime)
    first = client.get(f"/api/geo/grids.geojson?county={county}", headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200 and first.headers["content-type"].startswith("application/geo+json")
    assert first.headers["content-encoding"] == "gzip"
    doc = orjson.loads(first.content)  # httpx already decoded the gzip body
    assert len(doc["features"]) == 8
    assert all(f["properties"]["generated"] for f in doc["features"])
    assert {f["id"] for f in doc["features"]} == {f["properties"]["code"] for f in doc["features"]}
    again = client.get(f"/api/geo/grids.geojson?county={county}", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_townships_and_centers_layers(runtime: Runtime, county: str) -> None:
    client = _client(runtime)
    towns = client.get(f"/api/geo/townships.geojson?county={county}").json()
    centers = client.get(f"/api/geo/centers.geojson?county={county}").json()
    assert len(towns["features"]) == 2
    assert sorted(f["properties"]["tier"] for f in centers["features"]).count("village") == 4


def test_unknown_layer_or_county_is_a_clear_404(runtime: Runtime, county: str) -> None:
    client = _client(runtime)
    missing = client.get("/api/geo/grids.geojson?county=000000")
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "county"
    assert client.get(f"/api/geo/rivers.geojson?county={county}").status_code == 404


def test_gzip_payload_is_smaller_than_raw(runtime: Runtime, county: str) -> None:
    client = _client(runtime)
    raw = client.get(f"/api/geo/grids.geojson?county={county}", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert len(gzip.compress(raw.content)) < len(raw.content)
