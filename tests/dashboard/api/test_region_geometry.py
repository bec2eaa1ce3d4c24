"""The map's geometry above and below the county: a city's counties and a province's cities
(``/api/geo/region/{code}``), and a county's villages (``/api/geo/villages.geojson``)."""

from __future__ import annotations

from datetime import UTC, datetime

import brotli
import orjson
import pytest
import shapely
from fastapi import FastAPI
from fastapi.testclient import TestClient
from shapely import affinity, box, from_geojson, to_geojson
from shapely.geometry import shape
from sqlalchemy.orm import Session

from app import create_app
from dashboard.access.auth import Role
from dashboard.api.region_geometry import build_region_geometry_api
from dashboard.imports import onboarding
from dashboard.runtime import Runtime
from data_access import areas
from data_access.models import Region
from geo.generate import GeneratedArea, GeneratedCounty
from tests.dashboard.auth_support import as_role
from tests.factories import COUNTY, small_county

CITY, PROVINCE = COUNTY[:4] + "00", COUNTY[:2] + "0000"
NEIGHBOUR = COUNTY[:4] + "02"
"""A second county of the test county's city."""
OTHER_CITY, OTHER_COUNTY = COUNTY[:2] + "0200", COUNTY[:2] + "0201"
"""A county of another city of the same province."""
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def county_at(code: str, east: float) -> GeneratedCounty:
    """The small test county under another code, ``east`` degrees further east."""
    def moved(area: GeneratedArea) -> GeneratedArea:
        return GeneratedArea(code + area.code[6:], area.name, None if area.parent_code is None else code + area.parent_code[6:],
                             area.kind, affinity.translate(area.geometry, east), affinity.translate(area.center, east))
    base = small_county()
    return GeneratedCounty([moved(a) for a in base.townships], [moved(a) for a in base.villages],
                           [moved(a) for a in base.grids], affinity.translate(base.seat, east))


def onboard(session: Session, code: str, east: float, name: str) -> None:
    outline = box(127.0 + east, 44.0, 127.8 + east, 44.2)
    onboarding.save_county(session, county_at(code, east), name=name, now=WHEN, outline_geojson=to_geojson(outline))


@pytest.fixture
def province(runtime: Runtime, county: str) -> Runtime:
    """The test county and a neighbour in its city, and one county of another city; the city is
    imported with its own outline (a little larger than its counties), the other is known only by
    its county's code."""
    with runtime.sessions() as session, session.begin():
        onboard(session, NEIGHBOUR, 0.8, "邻县")
        onboard(session, OTHER_COUNTY, 1.6, "他市县")
        session.add(Region(code=CITY, name="测试市", level="city", parent_code=PROVINCE, imported_at=WHEN,
                           outline=to_geojson(box(126.9, 43.9, 128.7, 44.3))))
    return runtime


def client(rt: Runtime, area: str | None = None) -> TestClient:
    http = TestClient(create_app(rt).server)
    as_role(http, rt, Role.leader, area, name=f"leader-{area or 'all'}")
    return http


def features(response: object) -> dict[str, dict[str, object]]:
    doc = orjson.loads(response.content)  # type: ignore[attr-defined]
    assert doc["type"] == "FeatureCollection"
    return {f["id"]: f for f in doc["features"]}


def test_a_city_is_drawn_as_its_counties(province: Runtime) -> None:
    response = client(province).get(f"/api/geo/region/{CITY}", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/geo+json")
    shown = features(response)
    assert set(shown) == {COUNTY, NEIGHBOUR}
    assert [shown[c]["properties"] for c in (COUNTY, NEIGHBOUR)] == [
        {"code": COUNTY, "name": "测试县"}, {"code": NEIGHBOUR, "name": "邻县"}]
    assert shape(shown[NEIGHBOUR]["geometry"]).bounds == pytest.approx((127.8, 44.0, 128.6, 44.2), abs=1e-4)


def test_a_province_is_drawn_as_its_cities(province: Runtime) -> None:
    shown = features(client(province).get(f"/api/geo/region/{PROVINCE}"))
    assert set(shown) == {CITY, OTHER_CITY}
    assert shown[CITY]["properties"] == {"code": CITY, "name": "测试市"}
    assert shown[OTHER_CITY]["properties"] == {"code": OTHER_CITY, "name": OTHER_CITY}, "known only by its county's code"
    imported = shape(shown[CITY]["geometry"])
    assert imported.bounds == pytest.approx((126.9, 43.9, 128.7, 44.3), abs=1e-4), "the city's own outline"
    union = shape(shown[OTHER_CITY]["geometry"])
    assert union.geom_type == "Polygon" and union.area == pytest.approx(0.8 * 0.2, rel=1e-3), "its counties' union"


def test_the_payload_is_compressed_once_with_an_etag(province: Runtime) -> None:
    http = client(province)
    plain = http.get(f"/api/geo/region/{CITY}", headers={"Accept-Encoding": "identity"})
    packed = http.get(f"/api/geo/region/{CITY}", headers={"Accept-Encoding": "br"})
    assert packed.headers["content-encoding"] == "br" and packed.headers["etag"] == plain.headers["etag"]
    assert packed.headers["cache-control"] == "public, max-age=300" and packed.headers["vary"] == "Accept-Encoding"
    assert features(packed) == features(plain)
    again = http.get(f"/api/geo/region/{CITY}", headers={"If-None-Match": plain.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    gz = http.get(f"/api/geo/region/{CITY}", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip" and features(gz) == features(plain)
    assert len(brotli.compress(plain.content)) < len(plain.content)


def test_a_county_imported_later_is_drawn_at_once(province: Runtime) -> None:
    http = client(province)
    before = http.get(f"/api/geo/region/{CITY}")
    with province.sessions() as session, session.begin():
        onboard(session, COUNTY[:4] + "03", -0.8, "第三县")
    after = http.get(f"/api/geo/region/{CITY}", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert set(features(after)) == {COUNTY, NEIGHBOUR, COUNTY[:4] + "03"}


@pytest.mark.parametrize(("area", "code", "status"), [
    (None, CITY, 200), (None, PROVINCE, 200),
    (PROVINCE, CITY, 200), (PROVINCE, OTHER_CITY, 200), (PROVINCE, PROVINCE, 200),
    (CITY, CITY, 200), (CITY, PROVINCE, 404), (CITY, OTHER_CITY, 404),
    (COUNTY, CITY, 404), (COUNTY, PROVINCE, 404),
])
def test_an_area_outside_the_caller_is_not_there(province: Runtime, area: str | None, code: str, status: int) -> None:
    response = client(province, area).get(f"/api/geo/region/{code}")
    assert response.status_code == status
    if status == 404:
        assert response.json()["errors"][0]["code"] == "not_found" and b"Polygon" not in response.content


def test_the_route_itself_refuses_what_the_caller_does_not_see(province: Runtime) -> None:
    """The gate refuses a path outside a held person's area too; the route does not rely on it."""
    bare = FastAPI()
    bare.include_router(build_region_geometry_api(province, sees=lambda code: code == CITY))
    http = TestClient(bare)
    assert http.get(f"/api/geo/region/{CITY}").status_code == 200
    refused = http.get(f"/api/geo/region/{PROVINCE}")
    assert refused.status_code == 404 and b"Polygon" not in refused.content


@pytest.mark.parametrize("code", [COUNTY, COUNTY + "001", "980100", "980000", "abc", "99O100", "9" * 40, "%27%3B--"])
def test_what_is_no_city_or_province_with_counties_is_a_404(province: Runtime, code: str) -> None:
    assert client(province).get(f"/api/geo/region/{code}").status_code == 404


def test_nobody_signed_in_gets_no_geometry(province: Runtime) -> None:
    response = TestClient(create_app(province).server).get(f"/api/geo/region/{CITY}")
    assert response.status_code in (401, 403) or response.headers.get("location", "").startswith("/login")
    assert b"Polygon" not in response.content


def test_villages_are_the_union_of_their_grids(runtime: Runtime, county: str) -> None:
    response = client(runtime).get(f"/api/geo/villages.geojson?county={county}", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["content-encoding"] == "gzip"
    shown = features(response)
    with runtime.sessions() as session:
        rows = areas.village_rows(session, county)
        grids = areas.grid_geometries(session, county)
    assert set(shown) == {code for code, _, _ in rows} and len(shown) == 4
    for code, name, township in rows:
        union = shapely.union_all([from_geojson(g) for _, _, v, g in grids if v == code])
        drawn = shape(shown[code]["geometry"])
        assert shown[code]["properties"]["name"] == name and shown[code]["properties"]["parent_code"] == township
        assert drawn.symmetric_difference(union).area < 1e-6 * union.area
    etag = response.headers["etag"]
    assert client(runtime).get(f"/api/geo/villages.geojson?county={county}",
                               headers={"If-None-Match": etag}).status_code == 304
