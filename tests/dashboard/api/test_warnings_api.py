"""``GET /api/warnings``: the open warnings of an area for a leader, a duty officer or an admin;
refused to walls, source systems and strangers; nothing outside the caller's county."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from app import create_app
from dashboard.access.auth import Role
from dashboard.runtime import Runtime
from dashboard.warnings import job
from tests.dashboard.auth_support import as_role, new_source_token
from tests.dashboard.warnings.history import inject_burst, write_quiet_history

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
TOWNSHIP, OTHER_TOWNSHIP = "990101001", "990101002"
PERSONAL = {"party_name", "party_phone", "party_id_number", "address", "description"}


def _warned(rt: Runtime) -> None:
    write_quiet_history(rt, NOW, days=63)
    inject_burst(rt, NOW, township=TOWNSHIP, size=8)
    assert job.run(rt, now=NOW, force=True).opened >= 2


def test_readers_get_the_warnings_of_an_area_with_their_numbers_and_reason(runtime: Runtime, county: str) -> None:
    _warned(runtime)
    client = TestClient(create_app(runtime).server)
    for role in (Role.leader, Role.duty_officer, Role.admin):
        as_role(client, runtime, role)
        whole = client.get("/api/warnings")
        assert whole.status_code == 200, role
        body = whole.json()
        assert body["area"] == county and body["count"] == len(body["warnings"]) >= 2
    rows = {(w["area"], w["category"]): w for w in body["warnings"]}
    township = rows[(TOWNSHIP, "land")]
    assert {k: township[k] for k in ("area_level", "window_days", "observed")} == {
        "area_level": "township", "window_days": 1, "observed": 8}
    assert 0 < township["expected"] < 1 and township["p_value"] < 0.001
    assert township["reason_zh"].startswith("土地山林 · 测试镇1 · 近1日8件")
    assert not PERSONAL & set(township), "counts and places only"

    inside = client.get(f"/api/warnings?area={TOWNSHIP}").json()
    assert {w["area"] for w in inside["warnings"]} >= {TOWNSHIP} and county not in {w["area"] for w in inside["warnings"]}
    assert client.get(f"/api/warnings?area={OTHER_TOWNSHIP}").json()["warnings"] == []


def test_other_areas_roles_and_hostile_input_are_refused(runtime: Runtime, county: str) -> None:
    _warned(runtime)
    client = TestClient(create_app(runtime).server)
    assert client.get("/api/warnings").status_code in (401, 403), "nobody signed in"

    as_role(client, runtime, Role.leader)
    assert client.get("/api/warnings?area=220283").status_code == 404, "another county"
    assert client.get("/api/warnings?area=990101009").status_code == 404, "no such township"
    for hostile in ("abc", "9901'--", "9" * 40, ""):
        assert 400 <= client.get("/api/warnings", params={"area": hostile}).status_code < 500, hostile

    elsewhere = TestClient(create_app(runtime).server)
    as_role(elsewhere, runtime, Role.leader, county="220283", name="leader-of-shulan")
    assert elsewhere.get("/api/warnings").status_code == 404, "a leader of another county sees nothing here"

    wall = TestClient(create_app(runtime).server)
    as_role(wall, runtime, Role.screen, county=county)
    assert wall.get("/api/warnings").status_code == 403, "walls get warnings through the live stream only"

    source = TestClient(create_app(runtime).server)
    source.headers["Authorization"] = f"Bearer {new_source_token(runtime)}"
    assert source.get("/api/warnings").status_code in (401, 403)
