"""One deployment serving two counties of a city: ingest and Open311 write each case to its own
county, the Redis aggregates of each equal SQL for that county, and a source bound to one county
can neither write to nor read from the other. On both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app import create_app
from dashboard.api.grid_lookup import GridLookup, Placed
from dashboard.cases import cache_ops
from dashboard.runtime import Runtime
from data_access import aggregates, areas, cases
from data_access.models import Case
from tests.dashboard.api.open311_support import open311_client
from tests.dashboard.county_pair import CITY, EAST, WEST, grid_of, import_pair, point_in, source_token


@pytest.fixture
def pair(runtime: Runtime) -> tuple[str, str]:
    return import_pair(runtime)


def _client(rt: Runtime, token: str) -> TestClient:
    client = TestClient(create_app(rt).server)
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _case(ref: str, location: dict[str, object], **extra: object) -> dict[str, object]:
    body: dict[str, object] = {"external_ref": ref, "category": "labour_wages",
                               "received_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
                               "location": location, "people_involved": 2, "description": "讨要工资"}
    body.update(extra)
    return body


def _counts(rt: Runtime) -> dict[str, int]:
    with rt.sessions() as session:
        return {county: cases.count(session, county) for county in (WEST, EAST)}


def _assert_redis_equals_sql(rt: Runtime, county: str, open_cases: int) -> None:
    """The county's aggregates match a plain SQL query, and its open counter counts its own cases."""
    with rt.sessions() as session:
        assert cache_ops.reconcile(session, rt.redis, county, rt.rules) == []
        assert len(cases.open_cases(session, county)) == open_cases
    assert aggregates.read_open_counts(rt.redis, county).get(county, (0,))[0] == open_cases


def test_the_runtime_serves_both_counties(runtime: Runtime, pair: tuple[str, str]) -> None:
    assert runtime.served_counties() == [WEST, EAST]
    assert runtime.case_service(EAST).county_code == EAST
    assert runtime.case_service(EAST) is runtime.case_service(EAST)
    assert runtime.cases is runtime.case_service(WEST)  # the default county: the first imported


def test_each_case_lands_in_its_own_county(runtime: Runtime, pair: tuple[str, str]) -> None:
    api = _client(runtime, source_token(runtime, "12345热线", area=None))
    placed = {
        "W-point": (_case("W-point", point_in(WEST)), WEST),
        "E-point": (_case("E-point", point_in(EAST)), EAST),
        "W-grid": (_case("W-grid", {"grid_code": grid_of(WEST, 5)}), WEST),
        "E-grid": (_case("E-grid", {"grid_code": grid_of(EAST, 6)}), EAST),
        "E-both": (_case("E-both", {"grid_code": grid_of(EAST, 0), **point_in(EAST)}), EAST),
    }
    for ref, (body, county) in placed.items():
        answer = api.post("/api/cases", json=body)
        assert answer.status_code == 201, answer.text
        assert answer.json()["county_code"] == county and answer.json()["grid_code"].startswith(county), ref
    assert _counts(runtime) == {WEST: 2, EAST: 3}
    with runtime.sessions() as session:
        for case in session.query(Case).all():
            assert case.township_code.startswith(case.county_code) and case.grid_code.startswith(case.county_code)
    _assert_redis_equals_sql(runtime, WEST, 2)
    _assert_redis_equals_sql(runtime, EAST, 3)

    alerts = api.get("/api/alerts", params={"min_level": "blue"})
    assert alerts.status_code == 200
    assert sorted(a["county_code"] for a in alerts.json()) == [WEST, WEST, EAST, EAST, EAST]


def test_an_event_belongs_to_the_cases_county(runtime: Runtime, pair: tuple[str, str]) -> None:
    api = _client(runtime, source_token(runtime, "12345热线", area=CITY))
    east = api.post("/api/cases", json=_case("E-1", point_in(EAST))).json()
    with runtime.sessions() as session:
        west_centre, east_centre = areas.centers(session, WEST)[0].id, areas.centers(session, EAST)[0].id
    refused = api.post(f"/api/cases/{east['id']}/events", json={"action": "assign", "actor": "x", "center_id": west_centre})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "center_id"
    moved = api.post(f"/api/cases/{east['id']}/events", json={"action": "assign", "actor": "x", "center_id": east_centre})
    assert moved.status_code == 201, moved.text
    assessed = api.post(f"/api/cases/{east['id']}/events", json={"action": "assess", "actor": "研判员"})
    assert assessed.status_code == 201 and assessed.json()["status"] == "assessed"
    _assert_redis_equals_sql(runtime, EAST, 1)
    _assert_redis_equals_sql(runtime, WEST, 0)


def test_a_source_bound_to_one_county_writes_nothing_in_the_other(runtime: Runtime, pair: tuple[str, str]) -> None:
    everywhere = _client(runtime, source_token(runtime, "全市热线", area=None))
    east_case = everywhere.post("/api/cases", json=_case("E-0", point_in(EAST))).json()
    west_only = _client(runtime, source_token(runtime, "西县热线", area=WEST))
    before = _counts(runtime)

    by_point = west_only.post("/api/cases", json=_case("X-1", point_in(EAST)))
    assert by_point.status_code == 422 and by_point.json()["errors"][0]["code"] == "outside_county"
    by_grid = west_only.post("/api/cases", json=_case("X-2", {"grid_code": grid_of(EAST, 1)}))
    assert by_grid.status_code == 422 and by_grid.json()["errors"][0]["field"] == "grid_code"
    assert _counts(runtime) == before
    same_ref = west_only.post("/api/cases", json=_case("E-0", point_in(WEST)))  # the east case's own ref
    assert same_ref.status_code == 409 and "county_code" not in same_ref.text
    assert _counts(runtime) == before

    assert west_only.get(f"/api/cases/{east_case['id']}").status_code == 404
    event = west_only.post(f"/api/cases/{east_case['id']}/events", json={"action": "assess", "actor": "x"})
    assert event.status_code == 404
    with runtime.sessions() as session:
        assert [e.action for e in cases.get(session, east_case["id"]).events] == ["receive"]  # type: ignore[union-attr]
    assert west_only.get("/api/alerts", params={"min_level": "blue"}).json() == []

    own = west_only.post("/api/cases", json=_case("X-3", point_in(WEST)))
    assert own.status_code == 201 and own.json()["county_code"] == WEST
    assert _counts(runtime) == {WEST: before[WEST] + 1, EAST: before[EAST]}
    _assert_redis_equals_sql(runtime, WEST, 1)
    _assert_redis_equals_sql(runtime, EAST, 1)


def test_a_point_outside_every_served_county_is_refused(runtime: Runtime, pair: tuple[str, str]) -> None:
    api = _client(runtime, source_token(runtime, "12345热线", area=None))
    between = api.post("/api/cases", json=_case("gap", {"lon": 127.9, "lat": 44.1}))  # between the two
    assert between.status_code == 422 and between.json()["errors"][0]["code"] == "outside_county"
    unserved = api.post("/api/cases", json=_case("other", {"grid_code": "220281001001001"}))
    assert unserved.status_code == 422
    mismatch = api.post("/api/cases", json=_case("mix", {"grid_code": grid_of(WEST, 0), **point_in(EAST)}))
    assert mismatch.status_code == 422 and mismatch.json()["errors"][0]["code"] == "location_mismatch"
    assert _counts(runtime) == {WEST: 0, EAST: 0}


def test_open311_places_each_report_in_its_county(runtime: Runtime, pair: tuple[str, str]) -> None:
    api = open311_client(runtime)
    key = source_token(runtime, "市民APP", area=None, source="online")
    west_key = source_token(runtime, "西县APP", area=WEST, source="online")
    form = {"service_code": "neighbour", "description": "噪音扰民", "api_key": key}
    east = api.post("/open311/v2/requests.json", data={**form, "lat": "44.05", "long": str(point_in(EAST)["lon"])})
    assert east.status_code == 201, east.text
    east_id = east.json()[0]["service_request_id"]
    west = api.post("/open311/v2/requests.json", data={**form, "attribute[grid_code]": grid_of(WEST, 2),
                                                       "attribute[external_ref]": "w-1"})
    assert west.status_code == 201, west.text
    assert _counts(runtime) == {WEST: 1, EAST: 1}

    refused = api.post("/open311/v2/requests.json", data={**form, "api_key": west_key, "lat": "44.05",
                                                          "long": str(point_in(EAST)["lon"])})
    assert refused.status_code == 400 and "outside" in refused.json()[0]["description"]
    wrong_place = api.post("/open311/v2/requests.json", data={**form, "jurisdiction_id": WEST, "lat": "44.05",
                                                              "long": str(point_in(EAST)["lon"])})
    assert wrong_place.status_code == 400
    assert _counts(runtime) == {WEST: 1, EAST: 1}

    one = api.get(f"/open311/v2/requests/{east_id}.json")
    assert one.status_code == 200 and one.json()[0]["service_request_id"] == east_id
    assert api.get(f"/open311/v2/requests/{east_id}.json", params={"jurisdiction_id": WEST}).status_code == 404
    assert api.get(f"/open311/v2/requests/{east_id}.json", params={"api_key": west_key}).status_code == 404
    listed = api.get("/open311/v2/requests.json", params={"jurisdiction_id": EAST})
    assert [r["service_request_id"] for r in listed.json()] == [east_id]
    assert api.get("/open311/v2/services.json", params={"jurisdiction_id": EAST}).status_code == 200
    assert api.get("/open311/v2/services.json", params={"jurisdiction_id": "220281"}).status_code == 404
    _assert_redis_equals_sql(runtime, WEST, 1)
    _assert_redis_equals_sql(runtime, EAST, 1)


def test_locating_a_point_loads_only_the_counties_whose_bounds_hold_it(runtime: Runtime, pair: tuple[str, str]) -> None:
    lookup = GridLookup()
    with runtime.sessions() as session:
        placed = lookup.locate_among(session, [WEST, EAST], point_in(EAST)["lon"], point_in(EAST)["lat"])
        assert placed == Placed(EAST, grid_of(EAST, 0))
        assert set(lookup._counties) == {EAST}, "the west's grids were never read"
        assert lookup.locate_among(session, [WEST, EAST], 127.9, 44.1) is None  # between the two: no grids read
        assert set(lookup._counties) == {EAST}
        assert lookup.locate_among(session, [WEST], point_in(EAST)["lon"], 44.05) is None, "only the counties given"
