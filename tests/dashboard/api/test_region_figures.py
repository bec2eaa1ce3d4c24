"""``GET /api/figures?area=CITY_OR_PROVINCE``: the county's JSON shape, every figure equal to plain
SQL over all the region's cases, and refused (404) to a caller who cannot see the region."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from app import create_app
from dashboard.access.auth import Role
from dashboard.domain.periods import Period
from dashboard.runtime import Runtime
from dashboard.screens.area_figures import previous_period, same_period_last_year
from data_access import matters
from tests.dashboard.auth_support import as_role, new_source_token
from tests.dashboard.screens.region_support import CITY, ELSEWHERE, NOW, PROVINCE, history, import_city, sql_instant, sql_period

PERIOD = Period(date(2026, 10, 1), date(2026, 11, 22))


@pytest.fixture
def city(runtime: Runtime, county: str) -> list[str]:
    counties = import_city(runtime)
    for seed, code in enumerate([*counties, ELSEWHERE]):
        history(runtime, code, cases=12 + 4 * seed, seed=seed)
    runtime.clock = lambda: NOW
    return counties


def _get(client: TestClient, area: str, period: Period = PERIOD) -> object:
    return client.get("/api/figures", params={"area": area, "from": period.first.isoformat(), "to": period.last.isoformat()})


def _check(runtime: Runtime, body: dict[str, object], counties: list[str], area: str) -> None:
    """Every figure of every block equals SQL over the region's cases; the rates are recomputed
    from those counts."""
    assert body["area"] == area
    with runtime.sessions() as session:
        for name, shift in (("period", PERIOD), ("previous_period", previous_period(PERIOD)),
                            ("same_period_last_year", same_period_last_year(PERIOD))):
            block = body[name]
            assert isinstance(block, dict)
            sql = sql_period(session, counties, shift.start, shift.end)
            assert (block["from"], block["to"]) == (shift.first.isoformat(), shift.last.isoformat())
            for field in ("received", "closed", "closed_on_time", "closed_village", "closed_township", "closed_county",
                          "followed_up", "satisfied"):
                assert block[field] == getattr(sql, field), (name, field)
            assert block["closure_rate"] == sql.closure_rate and block["on_time_rate"] == sql.on_time_rate
            assert block["satisfaction_rate"] == sql.satisfaction_rate and block["resolved_at_tier"] == sql.tier_shares()
            plain = sum(matters.matters_sql(session, county_code=c, start=shift.start, end=shift.end) for c in counties)
            assert block["matters"] == plain and block["repeats"] == block["received"] - plain
        now = sql_instant(session, counties, NOW)
    assert body["now"] == {"open": now.open, "overdue": now.overdue, "red": now.red}


def test_city_and_province_figures_equal_sql(runtime: Runtime, city: list[str]) -> None:
    client = TestClient(create_app(runtime).server)
    as_role(client, runtime, Role.admin)
    city_body = _get(client, CITY)
    assert city_body.status_code == 200, city_body.text  # type: ignore[attr-defined]
    _check(runtime, city_body.json(), city, CITY)  # type: ignore[attr-defined]
    assert city_body.json()["period"]["received"] > 0 and city_body.json()["now"]["open"] > 0  # type: ignore[attr-defined]
    province = _get(client, PROVINCE).json()  # type: ignore[attr-defined]
    _check(runtime, province, [*city, ELSEWHERE], PROVINCE)
    county_body = _get(client, city[1]).json()  # type: ignore[attr-defined]
    _check(runtime, county_body, [city[1]], city[1])
    keys = set(city_body.json())  # type: ignore[attr-defined]
    assert keys == set(county_body) and set(city_body.json()["period"]) == set(county_body["period"])  # type: ignore[attr-defined]


def test_a_city_leader_sees_the_city_and_nothing_outside_it(runtime: Runtime, city: list[str]) -> None:
    client = TestClient(create_app(runtime).server)
    as_role(client, runtime, Role.leader, county=CITY)
    assert _get(client, CITY).status_code == 200  # type: ignore[attr-defined]
    assert _get(client, city[2]).status_code == 200, "everything in the city"  # type: ignore[attr-defined]
    assert _get(client, city[2] + "001").status_code == 200  # type: ignore[attr-defined]
    for outside in (PROVINCE, "990200", ELSEWHERE, "990300"):
        assert _get(client, outside).status_code == 404, outside  # type: ignore[attr-defined]
    county_leader = TestClient(create_app(runtime).server)
    as_role(county_leader, runtime, Role.leader, county=city[0], name="county-leader")
    for above in (CITY, PROVINCE):
        assert _get(county_leader, above).status_code == 404, above  # type: ignore[attr-defined]
    assert _get(county_leader, city[0]).status_code == 200  # type: ignore[attr-defined]


def test_source_systems_are_held_to_their_area(runtime: Runtime, city: list[str]) -> None:
    client = TestClient(create_app(runtime).server)
    client.headers["Authorization"] = f"Bearer {new_source_token(runtime, 'city-hotline')}"
    assert _get(client, CITY).status_code == 200, "a source system of no area reads every served county"  # type: ignore[attr-defined]


def test_hostile_region_codes_are_4xx(runtime: Runtime, city: list[str]) -> None:
    client = TestClient(create_app(runtime).server)
    as_role(client, runtime, Role.admin)
    for code in ("990300", "000000", "99010", "9901000", "99'00", "990100\x00"):
        response = _get(client, code)
        assert 400 <= response.status_code < 500, code  # type: ignore[attr-defined]
    too_long = _get(client, CITY, Period(date(2022, 1, 1), date(2026, 11, 22)))
    assert too_long.status_code == 422  # type: ignore[attr-defined]
    assert _get(client, CITY, Period(PERIOD.first - timedelta(days=1), PERIOD.last)).status_code == 200  # type: ignore[attr-defined]
