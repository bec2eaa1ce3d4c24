"""Personal data: stored as sent, masked in every read, public Open311 reads carry none, and a reveal
is a duty officer's explicit, audited act."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from dashboard.cases import duty_service
from dashboard.access.auth import Role
from dashboard.domain.masking import mask_address, mask_id_number, mask_name, mask_phone
from dashboard.cases.personal_data import Actor, RevealRefused
from dashboard.runtime import Runtime
from app import create_app
from data_access import audit, cases
from tests.dashboard.auth_support import as_role, new_source_token, served

GRID = "990101001001001"
PLANTED = {"party_name": "欧阳测试甲", "party_phone": "13912345678", "party_id_number": "220283199001011234",
           "address": "测试镇隐私村幸福路88号"}
OPEN311_PLANTED = {"last_name": "司马", "first_name": "测乙", "phone": "13787654321", "address_string": "测试镇秘密村九组7号"}
IN_DESCRIPTION = ("220283198807070018", "138 1234 5678")
"""Personal data a reporter types into the description: an ID number and a guarantor's phone."""
OPEN311_DESCRIPTION = ("司马测乙欠款不还，电话13787654321，身份证220283198807070018，担保人138 1234 5678，"
                       "住测试镇秘密村九组7号，欠款12000元")


def planted_strings() -> list[str]:
    """Every planted value, and its masked form too: a wall must not receive even that."""
    raw = [*PLANTED.values(), "司马测乙", *OPEN311_PLANTED.values()]
    masked = [mask_name(PLANTED["party_name"]), mask_phone(PLANTED["party_phone"]),
              mask_id_number(PLANTED["party_id_number"]), mask_address(PLANTED["address"]), mask_name("司马测乙"),
              mask_phone(OPEN311_PLANTED["phone"]), mask_address(OPEN311_PLANTED["address_string"])]
    return [s for s in raw + masked if s]


def case_body(ref: str, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {"external_ref": ref, "category": "neighbour", "location": {"grid_code": GRID},
                               "received_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(), **PLANTED}
    body.update(extra)
    return body


@pytest.fixture
def source_token(runtime: Runtime, county: str) -> str:
    return new_source_token(runtime, "12345热线")


@pytest.fixture
def app(runtime: Runtime, county: str) -> Iterator[TestClient]:
    with served(create_app(runtime).server) as client:
        yield client


def _post_case(app: TestClient, token: str, ref: str = "P-1") -> int:
    response = app.post("/api/cases", json=case_body(ref), headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_personal_data_is_stored_as_sent_and_read_masked(runtime: Runtime, app: TestClient, source_token: str) -> None:
    case_id = _post_case(app, source_token)
    with runtime.sessions() as session:
        stored = cases.get(session, case_id)
        assert stored is not None
        assert (stored.party_name, stored.party_phone, stored.party_id_number, stored.address) == tuple(PLANTED.values())
    for headers in ({"Authorization": f"Bearer {source_token}"}, None):
        if headers is None:
            as_role(app, runtime, Role.duty_officer)
        body = app.get(f"/api/cases/{case_id}", headers=headers).json()
        assert body["party_name"] == "欧***甲" and body["party_phone"] == "139****5678"
        assert body["party_id_number"] == "2202**********1234" and body["address"] == "测试镇隐私村***"
        alerts = app.get("/api/alerts?min_level=blue", headers=headers).text
        for text in [*PLANTED.values(), str(PLANTED)]:
            assert text not in str(body) and text not in alerts


def test_too_long_personal_data_is_refused_and_writes_nothing(runtime: Runtime, county: str, app: TestClient,
                                                               source_token: str) -> None:
    response = app.post("/api/cases", json=case_body("P-long", party_phone="1" * 33),
                        headers={"Authorization": f"Bearer {source_token}"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "party_phone"
    with runtime.sessions() as session:
        assert cases.count(session, county) == 0


def test_reveal_returns_the_full_values_and_writes_an_audit_entry(runtime: Runtime, app: TestClient,
                                                                  source_token: str) -> None:
    case_id = _post_case(app, source_token)
    as_role(app, runtime, Role.duty_officer, name="值班员丙")
    response = app.post(f"/api/cases/{case_id}/reveal", json={"reason": "回访核实"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body[k] for k in PLANTED} == PLANTED and body["revealed_by"] == "值班员丙"
    with runtime.sessions() as session:
        entries = audit.page(session, action="reveal")
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.actor, entry.role, entry.target) == ("值班员丙", "duty_officer", f"case:{case_id}")
    assert "回访核实" in entry.detail and PLANTED["party_phone"] not in entry.detail
    assert app.post("/api/cases/999999/reveal", json={}).status_code == 404


@pytest.mark.parametrize("role", [Role.admin, Role.leader, Role.screen, Role.api_client, None], ids=str)
def test_reveal_is_refused_to_everyone_else_and_logs_nothing(runtime: Runtime, app: TestClient, source_token: str,
                                                             role: Role | None) -> None:
    case_id = _post_case(app, source_token)
    headers = {}
    if role is Role.api_client:
        headers = {"Authorization": f"Bearer {source_token}"}
    elif role is not None:
        as_role(app, runtime, role, county="990101")
    response = app.post(f"/api/cases/{case_id}/reveal", json={}, headers=headers)
    assert response.status_code in (401, 403)
    assert not any(v in response.text for v in PLANTED.values())
    with runtime.sessions() as session:
        assert audit.count(session, action="reveal") == 0


def test_a_county_bound_officer_cannot_reveal_another_countys_case(runtime: Runtime, app: TestClient,
                                                                   source_token: str) -> None:
    case_id = _post_case(app, source_token)
    as_role(app, runtime, Role.duty_officer, county="110101")
    assert app.post(f"/api/cases/{case_id}/reveal", json={}).status_code == 404


def test_open311_reads_never_carry_personal_data(runtime: Runtime, app: TestClient, source_token: str) -> None:
    """Open311 reads are public: the planted name, phone, ID number and address appear in neither the
    fields nor the free text, and the position is rounded to about 100 m."""
    _post_case(app, source_token)
    posted = app.post("/open311/v2/requests.json", data={
        "api_key": source_token, "service_code": "debt", "lat": "44.0512345", "long": "127.0587654",
        "description": OPEN311_DESCRIPTION, "email": "someone@example.com", **OPEN311_PLANTED})
    assert posted.status_code == 201, posted.text
    request_id = posted.json()[0]["service_request_id"]
    with runtime.sessions() as session:
        stored = cases.get(session, int(request_id))
        assert stored is not None and stored.party_name == "司马测乙" and stored.party_phone == "13787654321"
        assert stored.address == "测试镇秘密村九组7号" and stored.description == OPEN311_DESCRIPTION
        assert (stored.lat, stored.lon) == (44.0512345, 127.0587654)
    anonymous = TestClient(app.app)
    for path in ("/open311/v2/requests.json", f"/open311/v2/requests/{request_id}.json",
                 f"/open311/v2/requests.json?service_request_id={request_id},1"):
        response = anonymous.get(path)
        assert response.status_code == 200 and response.json()
        for text in [*PLANTED.values(), "司马测乙", *OPEN311_PLANTED.values(), *IN_DESCRIPTION, "someone@example.com",
                     "44.0512", "127.0587"]:
            assert text not in response.text, (path, text)
    requests = {r["service_request_id"]: r for r in anonymous.get("/open311/v2/requests.json").json()}
    assert all(r["address"] == "" for r in requests.values())
    mine = requests[request_id]
    assert (mine["lat"], mine["long"], mine["description"]) == (44.051, 127.059, None)
    [keyed] = anonymous.get(f"/open311/v2/requests/{request_id}.json", params={"api_key": source_token}).json()
    assert keyed["description"] == ("司**乙欠款不还，电话137****4321，身份证2202**********0018，"
                                    "担保人138****5678，住测试镇秘密村***，欠款12000元")


def test_open311_refuses_an_overlong_phone_and_writes_nothing(runtime: Runtime, county: str, app: TestClient,
                                                               source_token: str) -> None:
    response = app.post("/open311/v2/requests.json", data={
        "api_key": source_token, "service_code": "debt", "attribute[grid_code]": GRID, "phone": "9" * 40})
    assert response.status_code == 400 and "phone" in response.json()[0]["description"]
    with runtime.sessions() as session:
        assert cases.count(session, county) == 0


NOTE = f"已电话联系{PLANTED['party_name']}（{PLANTED['party_phone']}），核对身份证{PLANTED['party_id_number']}；另一方电话15011112222"


@pytest.mark.parametrize("role", [Role.api_client, Role.leader, Role.duty_officer, Role.admin], ids=str)
def test_event_notes_are_masked_for_every_reader(runtime: Runtime, app: TestClient, source_token: str,
                                                 role: Role) -> None:
    case_id = _post_case(app, source_token)
    bearer = {"Authorization": f"Bearer {source_token}"}
    moved = app.post(f"/api/cases/{case_id}/events", json={"action": "assess", "actor": "研判员", "note": NOTE},
                     headers=bearer)
    assert moved.status_code == 201, moved.text
    with runtime.sessions() as session:
        stored = cases.get(session, case_id)
        assert stored is not None and stored.events[-1].note == NOTE, "the note is stored as written"
    if role is not Role.api_client:
        bearer = {}
        as_role(app, runtime, role)
    body = app.get(f"/api/cases/{case_id}", headers=bearer).json()
    if role is Role.leader:  # a leader sees no personal data at all, not even masked
        alerts = app.get("/api/alerts?min_level=blue").json()
        assert [a["id"] for a in alerts] == [case_id]
        for seen in (body, alerts[0]):
            assert all(seen[field] is None for field in ("party_name", "party_phone", "party_id_number", "address"))
            assert not [text for text in planted_strings() if text in str(seen)], seen
        assert body["events"][-1]["note"] == ""
    else:
        assert body["events"][-1]["note"] == ("已电话联系欧***甲（139****5678），核对身份证2202**********1234；"
                                              "另一方电话150****2222")
    for text in [*PLANTED.values(), "15011112222"]:
        assert text not in moved.text and text not in str(body), text


def test_the_duty_console_timeline_masks_notes_and_only_the_reveal_shows_the_party(
        runtime: Runtime, app: TestClient, source_token: str) -> None:
    case_id = _post_case(app, source_token)
    app.post(f"/api/cases/{case_id}/events", json={"action": "assess", "actor": "研判员", "note": NOTE},
             headers={"Authorization": f"Bearer {source_token}"})
    detail = duty_service.case_detail(runtime, case_id)
    assert detail is not None
    assert detail.events[-1][5].startswith("已电话联系欧***甲（139****5678）")
    assert not any(v in str(detail) for v in PLANTED.values())
    shown = duty_service.reveal(runtime, case_id, who=Actor("值班员丁", Role.duty_officer.value))
    assert shown.as_dict() == PLANTED


def test_only_a_duty_officer_reveals_on_the_console_too(runtime: Runtime, app: TestClient, source_token: str) -> None:
    """An admin runs the system, not the cases: the console's reveal is refused at the callback
    route and, behind it, by the reveal itself, and nothing is logged."""
    case_id = _post_case(app, source_token)
    with pytest.raises(RevealRefused):
        duty_service.reveal(runtime, case_id, who=Actor("管理员", Role.admin.value))
    as_role(app, runtime, Role.admin)
    clicked = app.post("/_dash-update-component", json={
        "output": "duty-revealed.children", "outputs": {"id": "duty-revealed", "property": "children"},
        "inputs": [{"id": "duty-reveal", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["duty-reveal.n_clicks"],
        "state": [{"id": "wall-url", "property": "search", "value": f"?case={case_id}"}]})
    assert clicked.status_code == 403 and not any(v in clicked.text for v in PLANTED.values())
    with runtime.sessions() as session:
        assert audit.count(session, action="reveal") == 0
